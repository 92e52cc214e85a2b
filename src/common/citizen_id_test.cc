#include "common/citizen_id.h"

#include <gtest/gtest.h>

#include "common/date.h"

namespace doudi {
namespace {

std::string WithCheck(const std::string& first17) { return first17 + CitizenIdCheckChar(first17); }

TEST(CitizenId, AcceptsValidIdAndDerivesBirthAndSex) {
  // 11010519491231002X is the standard's worked example (check character X, female).
  auto r = ParseCitizenId("11010519491231002X");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->birth_date, "1949-12-31");
  EXPECT_FALSE(r->male);
  auto m = ParseCitizenId(WithCheck("37072519800101001"));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->male);
  EXPECT_EQ(m->birth_date, "1980-01-01");
}

TEST(CitizenId, LowerCaseXIsNormalized) {
  auto r = ParseCitizenId("11010519491231002x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->normalized, "11010519491231002X");
}

TEST(CitizenId, RejectsWrongCheckCharacter) {
  auto r = ParseCitizenId("110105194912310021");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "citizen_id");
  EXPECT_EQ(r.status().message(), "身份证号校验位错误");
}

// A lower-case x is the check character X written small: where the check character is a
// digit, x (either case) is as wrong as any other.
TEST(CitizenId, RejectsXWhereTheCheckCharacterIsADigit) {
  ASSERT_TRUE(ParseCitizenId("370725198001010012").ok());
  for (const char* id : {"37072519800101001x", "37072519800101001X"}) {
    auto r = ParseCitizenId(id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.status().field(), "citizen_id");
    EXPECT_EQ(r.status().message(), "身份证号校验位错误") << id;
  }
}

TEST(CitizenId, RejectsBadDates) {
  EXPECT_FALSE(ParseCitizenId(WithCheck("37072519801301001")).ok());  // month 13
  EXPECT_FALSE(ParseCitizenId(WithCheck("37072519810229001")).ok());  // not a leap year
  EXPECT_TRUE(ParseCitizenId(WithCheck("37072520000229001")).ok());   // leap year
  EXPECT_FALSE(ParseCitizenId(WithCheck("37072518990101001")).ok());  // before 1900
  EXPECT_FALSE(ParseCitizenId(WithCheck("37072529990101001")).ok());  // future
}

TEST(CitizenId, RejectsBadShapes) {
  EXPECT_FALSE(ParseCitizenId("").ok());
  EXPECT_FALSE(ParseCitizenId("3707251980010100").ok());
  EXPECT_FALSE(ParseCitizenId("37072519800101001XX").ok());
  EXPECT_FALSE(ParseCitizenId("3707251980010100AX").ok());
  EXPECT_FALSE(ParseCitizenId("37072519800101001Y").ok());
}

TEST(CitizenId, MaskAndPack) {
  EXPECT_EQ(MaskCitizenId("11010519491231002X"), "110105********002X");
  EXPECT_NE(PackCitizenId("11010519491231002X"), PackCitizenId("110105194912310029"));
}

TEST(DivisionCode, LevelsAndScope) {
  EXPECT_EQ(LevelOfCode("370725"), RegionLevel::kCounty);
  EXPECT_EQ(LevelOfCode("370725107"), RegionLevel::kTown);
  EXPECT_EQ(LevelOfCode("370725107202"), RegionLevel::kVillage);
  EXPECT_EQ(LevelOfCode("37072510720"), RegionLevel::kInvalid);
  EXPECT_EQ(LevelOfCode("37072A"), RegionLevel::kInvalid);
  EXPECT_TRUE(CodeWithin("370725107202", "370725107"));
  EXPECT_FALSE(CodeWithin("370725107206", "370725107202"));
  EXPECT_FALSE(CodeWithin("370725", "370725107"));
}

TEST(Dates, AgeAndValidity) {
  EXPECT_EQ(AgeOn("1980-06-15", "2026-06-14"), 45);
  EXPECT_EQ(AgeOn("1980-06-15", "2026-06-15"), 46);
  int y, m, d;
  EXPECT_TRUE(ParseDate("2024-02-29", &y, &m, &d));
  EXPECT_FALSE(ParseDate("2023-02-29", &y, &m, &d));
  EXPECT_FALSE(ParseDate("2023-2-28", &y, &m, &d));
}

}  // namespace
}  // namespace doudi

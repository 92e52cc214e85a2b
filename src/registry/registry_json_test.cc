#include <gtest/gtest.h>

#include "registry/registry.h"

namespace doudi::registry {
namespace {

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The direct writers must give exactly the tree serialisation, escapes and bad UTF-8 included.
const std::vector<std::string> kStrings = {
    "", "王小明", "a\"b\\c/d", "\b\f\n\r\t\x01\x1f\x7f end", "\xe4\xb8", "x\xff\xfey", "\xed\xa0\x80",
    "\xf0\x9f\x98\x80 \xc3\xa9", "\xc0\xaf", "\xf4\x90\x80\x80"};

TEST(RegistryJson, HouseholdMatchesTree) {
  for (const auto& s : kStrings) {
    Household h;
    h.id = 42;
    h.version = 7;
    h.village_code = "370725107201";
    h.village_name = s;
    h.town_code = "370725107";
    h.town_name = "镇";
    h.county_code = "370725";
    h.area = "rural";
    h.residence_address = s + "地址";
    h.phone = s;
    h.deposits_fen = -5;
    h.vehicles = 1;
    h.business = true;
    h.medical_expenditure_fen = 9'000'000'000'000LL;
    h.created_at = "2026-11-23T10:00:00+08:00";
    EXPECT_EQ(DumpJson(h), Dump(ToJson(h)));  // no members
    Person p;
    p.id = 1;
    p.household_id = 42;
    p.citizen_id = "37072519800101001X";
    p.name = s;
    p.relation = "head";
    p.birth_date = "1980-01-01";
    p.sex = "male";
    p.income.wage = 123;
    p.income.other = -1;
    h.members.push_back(p);
    p.id = 2;
    p.disability = Disability{s, 2};
    p.has_supporter = false;
    p.serious_illness = p.in_school = p.employed = true;
    h.members.push_back(p);
    EXPECT_EQ(DumpJson(h), Dump(ToJson(h))) << s;
  }
}

TEST(RegistryJson, PageMatchesTree) {
  std::vector<HouseholdSummary> items;
  std::vector<std::shared_ptr<const std::string>> docs;
  EXPECT_EQ(DumpPageJson(docs, 0, 3, 20),
            Dump({{"items", nlohmann::json::array()}, {"total", 0}, {"page", 3}, {"page_size", 20}}));
  for (const auto& s : kStrings) {
    HouseholdSummary x;
    x.id = static_cast<int64_t>(items.size()) + 1;
    x.version = 2;
    x.member_count = 3;
    x.village_code = "370725107201";
    x.village_name = x.town_name = x.head_name = x.updated_at = s;
    x.area = "urban";
    x.head_citizen_id = items.size() % 2 ? "37072519800101001X" : s;
    items.push_back(x);
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& x : items) {
    arr.push_back(ToJson(x));
    docs.push_back(std::make_shared<const std::string>(DumpSummaryJson(x)));
  }
  EXPECT_EQ(DumpPageJson(docs, 1234, 2, 10),
            Dump({{"items", arr}, {"total", 1234}, {"page", 2}, {"page_size", 10}}));
}

}  // namespace
}  // namespace doudi::registry

// Golden tests: every worked example in tests/policy_cases/<county>.json (input household,
// date, expected determination) is evaluated with that county's pack and compared field by
// field. Plus unit tests of the pieces the examples lean on.
#include "policy/engine.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/citizen_id.h"

namespace doudi::policy {
namespace {

using nlohmann::json;

const std::string kPolicies = DOUDI_SOURCE_DIR "/policies";
const std::string kCases = DOUDI_SOURCE_DIR "/tests/policy_cases";
const std::vector<std::string> kCounties = {"370725", "371522", "520524", "340321", "370321"};

// Every key in `expect` must equal the same key in `got` (objects recursively; referral
// objects compare the keys the case names).
void ExpectSubset(const json& expect, const json& got, const std::string& path, std::vector<std::string>* diffs) {
  if (expect.is_object()) {
    if (!got.is_object()) {
      diffs->push_back(path + ": expected object, got " + got.dump());
      return;
    }
    for (auto it = expect.begin(); it != expect.end(); ++it) {
      if (!got.contains(it.key())) {
        diffs->push_back(path + "." + it.key() + ": missing");
        continue;
      }
      ExpectSubset(it.value(), got[it.key()], path + "." + it.key(), diffs);
    }
  } else if (expect.is_array() && got.is_array() && !expect.empty() && expect[0].is_object()) {
    if (expect.size() != got.size()) {
      diffs->push_back(path + ": expected " + expect.dump() + ", got " + got.dump());
      return;
    }
    for (size_t i = 0; i < expect.size(); ++i) ExpectSubset(expect[i], got[i], path + "[" + std::to_string(i) + "]", diffs);
  } else if (expect != got) {
    diffs->push_back(path + ": expected " + expect.dump() + ", got " + got.dump());
  }
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, EveryCaseMatches) {
  const std::string county = GetParam();
  auto pack = Pack::Load(kPolicies, county);
  ASSERT_TRUE(pack.ok()) << pack.status().message();
  std::ifstream in(kCases + "/" + county + ".json");
  ASSERT_TRUE(in) << "missing golden file for " << county;
  json doc = json::parse(in);
  ASSERT_GE(doc["cases"].size(), 15u) << "at least 15 golden cases per county";
  int checked = 0;
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["id"].get<std::string>() + " " + c["title"].get<std::string>());
    auto params = ResolveParams(**pack, c["date"].get<std::string>());
    ASSERT_TRUE(params.ok()) << params.status().message();
    auto facts = FactsFromJson(c["input"]);
    ASSERT_TRUE(facts.ok()) << facts.status().field() << ": " << facts.status().message();
    Explain explain;
    auto det = Evaluate(*facts, *params, &explain);
    ASSERT_TRUE(det.ok()) << det.status().message();
    json got = ToJson(*facts, *params, *det, &explain);
    std::vector<std::string> diffs;
    ExpectSubset(c["expect"], got, c["id"].get<std::string>(), &diffs);
    for (const auto& d : diffs) ADD_FAILURE() << d << "\n  arithmetic: " << c.value("arithmetic", "");
    // The fast path (no explanation) decides exactly the same.
    auto fast = Evaluate(*facts, *params, nullptr);
    ASSERT_TRUE(fast.ok());
    json fast_json = ToJson(*facts, *params, *fast, nullptr);
    for (const char* prog : {"dibao", "tekun", "temporary", "marginal"})
      EXPECT_EQ(fast_json[prog]["eligible"], got[prog]["eligible"]) << prog;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

INSTANTIATE_TEST_SUITE_P(Counties, GoldenTest, ::testing::ValuesIn(kCounties));

TEST(Packs, EveryCountyLoadsAndPassesItsErrorConstraints) {
  for (const auto& county : kCounties) {
    auto pack = Pack::Load(kPolicies, county);
    ASSERT_TRUE(pack.ok()) << county << ": " << pack.status().message();
    auto v = (*pack)->Check(std::nullopt);
    ASSERT_TRUE(v.ok()) << v.status().message();
    for (const auto& viol : *v)
      EXPECT_NE(viol.severity, "error") << county << " " << viol.constraint_id << " " << viol.date << " " << viol.detail;
    EXPECT_TRUE((*pack)->EntryOn("dibao.urban_monthly_fen", "2025-01-01")) << county;
  }
}

TEST(Packs, ChangleRatioConstraintCatchesABadStandard) {
  auto pack = Pack::Load(kPolicies, "370725");
  ASSERT_TRUE(pack.ok());
  // Rural standard far below urban: urban/rural > 1.23 must be reported as an error.
  Entry e{"2024-01-01", Value(int64_t{50000}), "local setting", "local setting", "", "test", "overlay"};
  ASSERT_TRUE((*pack)->AddOverlay("dibao.rural_monthly_fen", e).ok());
  auto v = (*pack)->Check(std::nullopt);
  ASSERT_TRUE(v.ok());
  bool found = false;
  for (const auto& viol : *v)
    if (viol.constraint_id == "370725.urban_rural_ratio" && viol.date == "2024-01-01") found = true;
  EXPECT_TRUE(found);
}

TEST(Packs, HuantaiBandsOnConsumption) {
  auto pack = Pack::Load(kPolicies, "370321");
  ASSERT_TRUE(pack.ok());
  Entry e{"2024-01-01", Value(int64_t{200000}), "local setting", "local setting", "", "too high", "overlay"};
  ASSERT_TRUE((*pack)->AddOverlay("dibao.urban_monthly_fen", e).ok());
  auto v = (*pack)->Check(std::string("2024-06-01"));
  ASSERT_TRUE(v.ok());
  bool high = false;
  for (const auto& viol : *v) high = high || viol.constraint_id == "370321.urban_band_high";
  EXPECT_TRUE(high);
}

TEST(Packs, ValueResolutionFollowsDates) {
  auto pack = Pack::Load(kPolicies, "370725");
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(*(*pack)->IntOn("dibao.rural_monthly_fen", "2023-03-01"), 76000);
  EXPECT_EQ(*(*pack)->IntOn("dibao.rural_monthly_fen", "2023-09-01"), 80000);
  EXPECT_FALSE((*pack)->IntOn("dibao.rural_monthly_fen", "2020-01-01").ok());
  EXPECT_EQ(*(*pack)->IntOn("temporary.town_ceiling_fen", "2023-09-01"), 300000);
  EXPECT_EQ((*pack)->EntryOn("temporary.town_ceiling_fen", "2023-09-01")->source, "seed");
}

TEST(Expressions, ExactArithmeticAndErrors) {
  Lookup lookup = [](const std::string& name, const std::string&) -> std::optional<Rational> {
    if (name == "a") return Rational::Int(123);
    if (name == "b") return Rational::Int(100);
    return std::nullopt;
  };
  std::string detail;
  EXPECT_TRUE(*EvaluateComparison("a <= 1.23 * b", "2024-01-01", lookup, &detail));
  EXPECT_FALSE(*EvaluateComparison("a < 1.23 * b", "2024-01-01", lookup, &detail));
  EXPECT_TRUE(*EvaluateComparison("(a - b) * 2 == 46", "2024-01-01", lookup, &detail));
  EXPECT_FALSE(EvaluateComparison("a <= ", "2024-01-01", lookup, &detail).ok());
  EXPECT_FALSE(EvaluateComparison("c >= 1", "2024-01-01", lookup, &detail).ok());
  EXPECT_FALSE(EvaluateComparison("a / 0 >= 1", "2024-01-01", lookup, &detail).ok());
}

TEST(Facts, InvalidInputNamesTheField) {
  json base = json::parse(R"({"area":"urban","hukou_division":"370725","members":[
    {"citizen_id":"11010519491231002X","relation":"head"}]})");
  EXPECT_TRUE(FactsFromJson(base).ok());
  auto bad = [&](const std::function<void(json&)>& mutate, const std::string& field) {
    json j = base;
    mutate(j);
    auto r = FactsFromJson(j);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().field(), field);
  };
  bad([](json& j) { j["members"][0]["citizen_id"] = "110105194912310021"; }, "members[0].citizen_id");
  bad([](json& j) { j["members"] = json::array(); }, "members");
  bad([](json& j) { j["area"] = "city"; }, "area");
  bad([](json& j) { j["members"][0]["relation"] = "cousin"; }, "members[0].relation");
  bad([](json& j) { j["members"][0]["disability"] = {{"kind", "physical"}, {"grade", 5}}; }, "members[0].disability.grade");
  bad([](json& j) { j["members"][0]["monthly_income_fen"] = {{"wage", -1}}; }, "members[0].monthly_income_fen.wage");
  bad([](json& j) { j["emergency"] = {{"kind", "flood"}, {"loss_fen", 1}}; }, "emergency.kind");
  bad([](json& j) { j["current"] = {{"program", "dibao"}, {"since", "2023-13-01"}}; }, "current.since");
}

TEST(Age, BirthdayOnTheDateCounts) {
  auto pack = Pack::Load(kPolicies, "370725");
  ASSERT_TRUE(pack.ok());
  // Born 2005-09-01, current tekun, not in school: 17 on 2023-08-31, 18 on 2023-09-01.
  std::string id17 = "37072520050901167";
  json in = {{"area", "urban"}, {"hukou_division", "370725"}, {"current", {{"program", "tekun"}}},
             {"members", {{{"citizen_id", id17 + CitizenIdCheckChar(id17)}, {"relation", "head"}, {"has_supporter", false}}}}};
  auto facts = FactsFromJson(in);
  ASSERT_TRUE(facts.ok());
  auto before = ResolveParams(**pack, "2023-08-31");
  auto on = ResolveParams(**pack, "2023-09-01");
  ASSERT_TRUE(before.ok() && on.ok());
  EXPECT_TRUE(Evaluate(*facts, *before, nullptr)->tekun);
  EXPECT_FALSE(Evaluate(*facts, *on, nullptr)->tekun);
}

}  // namespace
}  // namespace doudi::policy

// The policy engine: a pure function of (household facts, parameters on a date) →
// determinations for every programme, each with the rules, parameter values and citations
// that decided it. The logic is docs/policy-rules.md, rule by rule (ids like DB-1 appear in
// the code and in every reason).
//
// Evaluate() is allocation-free on its hot path when no Explain is requested, so the
// simulation and the benchmark run it over millions of households. Thread-safe: all inputs
// are const.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/pack.h"

namespace doudi::policy {

enum class DisabilityKind : uint8_t { kNone, kPhysical, kVisual, kHearing, kSpeech, kIntellectual, kMental, kMultiple };
enum class SelfCare : uint8_t { kFull, kPartialLoss, kFullLoss };
enum IncomeKind { kWage, kBusiness, kProperty, kTransfer, kPension, kOther, kIncomeKinds };
enum class EmergencyKind : uint8_t { kAccident, kFire, kIllness, kDisaster, kOther };

struct Member {
  std::string citizen_id;  // normalized
  std::string relation;
  int birth_y = 0, birth_m = 0, birth_d = 0;
  DisabilityKind disability = DisabilityKind::kNone;
  int grade = 0;
  bool serious_illness = false;
  SelfCare self_care = SelfCare::kFull;
  bool in_school = false, employed = false, has_supporter = true;
  std::array<int64_t, kIncomeKinds> income{};
};

struct Facts {
  bool urban = false;
  std::string hukou_division;
  std::vector<Member> members;
  int64_t deposits_fen = 0, vehicles = 0, extra_properties = 0;
  bool business = false;
  int64_t medical_fen = 0, education_fen = 0;  // annual, out of pocket
  std::optional<EmergencyKind> emergency;
  int64_t emergency_loss_fen = 0;
  std::string current_program;  // "", "dibao", "tekun", "marginal"
  std::string current_since, current_above_since;
  std::optional<int64_t> current_monthly_fen;
  bool residence_permit = false;
};

// Reads the eval input (docs/policy-rules.md VAL-1; shape in issue 3 and docs/api.md).
// Errors name the field by JSON path.
Result<Facts> FactsFromJson(const nlohmann::json& j);

// Parameters resolved on one date into typed fields (GEN-1: a missing parameter is an error).
struct Params {
  std::string county, date;
  const Pack* pack = nullptr;  // for explanations (entries with citations)
  int64_t s_urban = 0, s_rural = 0;
  Rational marginal_multiple;
  int64_t gradual_exit_months = 0;
  bool gradual_exit_requires_employment = false;
  std::array<bool, kIncomeKinds> counted{};
  std::array<bool, kIncomeKinds> tekun_counted{};
  int64_t pension_disregard = 0, work_cost = 0;
  bool deduct_medical = false, deduct_education = false;
  bool deposit_by_multiple = true;
  Rational deposit_multiple;
  int64_t deposit_per_capita = 0, max_vehicles = 0, max_extra_properties = 0;
  bool business_allowed = false;
  bool assets_dibao = true, assets_marginal = true, assets_tekun = true, assets_eh = true, assets_ip = true;
  bool single_enabled = false, single_serious_illness = false, single_adult_unemployed = false;
  std::array<int, 8> severe_max_grade{};  // by DisabilityKind
  int64_t single_adult_age = 18;
  Rational single_adult_multiple;
  Rational tekun_basic_urban, tekun_basic_rural;
  std::array<int64_t, 3> tekun_care{};  // by SelfCare
  int64_t tekun_elderly_age = 60, tekun_under_age = 16, tekun_minor_until = 18;
  bool tekun_in_school_extension = true;
  std::array<int, 8> tekun_max_grade{};
  std::array<Rational, 5> emergency_min{}, emergency_max{};  // by EmergencyKind
  Rational medical_min, medical_max, education_min, education_max;
  bool medical_requires_illness = true, education_requires_school = true;
  int64_t town_ceiling = 0;
  std::string above_ceiling_approver, above_band_approver;
  bool no_hukou_restriction = true, residence_permit_dibao = false;
  bool supplement_enabled = false, supplement_sum = false;
  int64_t supplement_elderly_age = 70, supplement_minor_age = 18;
  Rational supp_elderly, supp_minor, supp_disability, supp_illness;
  Rational eh_share, ip_share;
  bool ip_enabled = true;
  int64_t dy_urban = 0, dy_rural = 0;
  // Referrals: per kind, department, label, trigger bits.
  struct Referral {
    std::string kind, department, label;
    uint32_t triggers = 0;
  };
  std::vector<Referral> referrals;
  uint32_t low_income_programs = 0;  // bits of Program
  int64_t work_age_min = 16, work_age_max = 59;
  bool zero_employment_priority = false;
  std::string housing_rural_measure, housing_urban_measure;
};

Result<Params> ResolveParams(const Pack& pack, const std::string& date);

enum Program : uint32_t { kDibao = 1, kTekun = 2, kMarginal = 4, kExpenditureHardship = 8, kIllnessPoverty = 16 };

struct TemporaryItem {
  const char* kind = "";  // "emergency.fire", "expenditure.medical", …
  int64_t amount_fen = 0;
  bool above_band = false;
};

// Determinations of one household. Covered members are bit sets over Facts::members.
struct Determination {
  bool dibao = false;
  const char* dibao_rule = nullptr;  // "DB-1" | "DB-2" | "DB-3"
  bool dibao_single = false;
  uint32_t dibao_covered = 0;
  int64_t dibao_base = 0, dibao_supplement = 0;
  bool marginal = false;
  bool tekun = false;
  uint32_t tekun_covered = 0;
  int64_t tekun_monthly = 0;
  bool temporary = false;
  int64_t temporary_amount = 0;
  const char* approver = nullptr;
  std::array<TemporaryItem, 3> items{};
  int n_items = 0;
  bool expenditure_hardship = false;
  bool illness_poverty = false;
  uint32_t ip_covered = 0;
  uint32_t referral_bits = 0;  // bit i: Params::referrals[i]
  std::array<uint32_t, 8> referral_triggers{};
  bool zero_employment = false;
  int64_t dibao_monthly() const { return dibao_base + dibao_supplement; }
};

// Collects reasons when requested (GEN-4).
class Explain {
 public:
  void Add(const std::string& program, const char* rule, bool passed, std::vector<std::string> keys,
           nlohmann::json facts, const char* cite);
  nlohmann::json ReasonsFor(const std::string& program, const Params& p) const;

 private:
  struct Reason {
    std::string program, rule;
    bool passed;
    std::vector<std::string> keys;
    nlohmann::json facts;
    std::string cite;
  };
  std::vector<Reason> reasons_;
};

// Evaluates one household. Errors only for inputs the rules cannot decide (e.g. gradual exit
// without current.monthly_fen: VAL-1).
Result<Determination> Evaluate(const Facts& f, const Params& p, Explain* explain);

// Full JSON output (docs/policy-rules.md §11) with reasons and referrals.
nlohmann::json ToJson(const Facts& f, const Params& p, const Determination& d, const Explain* explain);

}  // namespace doudi::policy

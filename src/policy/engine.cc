// The rules: Evaluate (docs/policy-rules.md, rule group by rule group), its explanation and
// the determination as JSON. The inputs (facts, parameters) are read in engine_input.cc.
#include "policy/engine.h"

#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "policy/engine_tables.h"

namespace doudi::policy {
namespace {

using nlohmann::json;

using namespace detail;

int64_t CeilTimes(const Rational& m, int64_t x) { return (m * Rational::Int(x)).Ceil(); }

int Age(const Member& m, int y, int mo, int d) {
  int age = y - m.birth_y;
  if (mo < m.birth_m || (mo == m.birth_m && d < m.birth_d)) --age;
  return age;
}

// start + n months, clamping the day to the month's last day (DB-2).
std::string AddMonths(const std::string& start, int64_t n) {
  int y, m, d;
  ParseDate(start, &y, &m, &d);
  int64_t total = static_cast<int64_t>(y) * 12 + (m - 1) + n;
  int ny = static_cast<int>(total / 12), nm = static_cast<int>(total % 12) + 1;
  while (!IsValidDate(ny, nm, d)) --d;
  return FormatDate(ny, nm, d);
}

}  // namespace

// ------------------------------------------------------------------------------------------
void Explain::Add(const std::string& program, const char* rule, bool passed, std::vector<std::string> keys,
                  json facts, const char* cite) {
  reasons_.push_back({program, rule, passed, std::move(keys), std::move(facts), cite});
}

json Explain::ReasonsFor(const std::string& program, const Params& p) const {
  json out = json::array();
  for (const auto& r : reasons_) {
    if (r.program != program) continue;
    json params = json::array();
    for (const auto& k : r.keys) {
      const Entry* e = p.pack ? p.pack->EntryOn(k, p.date) : nullptr;
      const Param* decl = p.pack ? p.pack->Find(k) : nullptr;
      if (!e) continue;
      params.push_back({{"key", k},
                        {"label", decl ? decl->label : ""},
                        {"value", ValueToString(e->value)},
                        {"from", e->from},
                        {"source", e->source},
                        {"cite", e->cite}});
    }
    out.push_back({{"rule", r.rule}, {"passed", r.passed}, {"params", params}, {"facts", r.facts}, {"cite", r.cite}});
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Evaluate, rule group by rule group (docs/policy-rules.md). The groups run in the order of
// the rules and share what one household's evaluation has found so far (`Evaluation`).
namespace {

// Each rule group is inlined into Evaluate, so the groups' shared state can stay in registers
// as the locals of one function did and the simulation keeps its speed (bench/policy: without
// it GCC keeps the larger groups as calls, about 8% more instructions per household; with it
// about 5%, most of it the state kept in the struct).
#define DOUDI_RULE [[gnu::always_inline]] inline

// What the rule groups share while one household is evaluated.
struct Evaluation {
  Evaluation(const Facts& f, const Params& p, Explain* ex, Determination& d, int* ages, int64_t* inc)
      : f(f), p(p), ex(ex), d(d), ages(ages), inc(inc), n_h(f.members.size()), S(f.urban ? p.s_urban : p.s_rural),
        Su(p.s_urban), Dy(f.urban ? p.dy_urban : p.dy_rural),
        area_key(f.urban ? "dibao.urban_monthly_fen" : "dibao.rural_monthly_fen") {
    int y, m, day;  // parsed into locals: no pointer into the struct, so it can live in registers
    ParseDate(p.date, &y, &m, &day);
    dy = y, dm = m, dd = day;
  }
  const Facts& f;
  const Params& p;
  Explain* ex;  // null: no explanation (the fast path)
  Determination& d;
  int* ages;     // by member (arrays of Evaluate)
  int64_t* inc;  // by member: counted income (INC-1 … INC-3)
  int dy = 0, dm = 0, dd = 0;  // the date of evaluation
  size_t n_h;                  // members of the household
  int64_t S, Su, Dy;           // the area's standard, the urban standard, disposable income
  const char* area_key;
  bool household_ok = false, assets_ok = false;  // HUK-1, AST-1
  // TK-7 and INC-1 … INC-4: H' (members not tekun), their count, incomes.
  uint32_t hprime = 0;
  int64_t n = 0, G = 0, G_all = 0, R = 0, I = 0;
  i128 Sn = 0;
  bool any_employed = false;
  bool base_ok = false, db1 = false, db2 = false;
};

DOUDI_RULE int64_t MemberIncome(const Params& p, const Member& m, const std::array<bool, kIncomeKinds>& counted) {
  int64_t sum = 0;
  for (int k = 0; k < kIncomeKinds; ++k) {
    if (!counted[k]) continue;
    int64_t v = m.income[k];
    if (k == kWage) v = std::max<int64_t>(0, v - (v > 0 ? p.work_cost : 0));
    if (k == kPension) v = std::max<int64_t>(0, v - p.pension_disregard);
    sum += v;
  }
  return sum;
}

DOUDI_RULE bool Severe(const Params& p, const Member& m) {
  return m.disability != DisabilityKind::kNone && m.grade <= p.severe_max_grade[static_cast<int>(m.disability)];
}

DOUDI_RULE bool NoWorkDisability(const Params& p, const Member& m) {
  return m.disability != DisabilityKind::kNone && m.grade <= p.tekun_max_grade[static_cast<int>(m.disability)];
}

// HUK-1.
DOUDI_RULE void CheckHukou(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  const bool local = CodeWithin(f.hukou_division, p.county);
  e.household_ok = local || (p.residence_permit_dibao && f.residence_permit);
  if (e.ex)
    e.ex->Add("dibao", "HUK-1", e.household_ok, {"intake.residence_permit_dibao"},
              {{"hukou_division", f.hukou_division}, {"local", local}, {"residence_permit", f.residence_permit}},
              "民发〔2021〕57号 第四条、第五条");
}

// AST-1 over the whole household.
DOUDI_RULE void CheckAssets(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  const int64_t S = e.S;
  const size_t n_h = e.n_h;
  const bool deposits_ok =
      p.deposit_by_multiple
          ? static_cast<i128>(f.deposits_fen) * p.deposit_multiple.den <=
                p.deposit_multiple.num * 12 * S * static_cast<i128>(n_h)
          : static_cast<i128>(f.deposits_fen) <= static_cast<i128>(p.deposit_per_capita) * static_cast<i128>(n_h);
  e.assets_ok = deposits_ok && f.vehicles <= p.max_vehicles && f.extra_properties <= p.max_extra_properties &&
                (!f.business || p.business_allowed);
  if (e.ex) {
    json facts = {{"deposits_fen", f.deposits_fen}, {"vehicles", f.vehicles}, {"extra_properties", f.extra_properties},
                  {"business", f.business}, {"members", n_h}};
    if (p.deposit_by_multiple)
      facts["deposit_limit_fen"] = (p.deposit_multiple * Rational::Int(12 * S * static_cast<int64_t>(n_h))).Floor();
    e.ex->Add("assets", "AST-1", e.assets_ok,
              {"assets.deposit_limit_mode", "assets.deposit_limit_multiple", "assets.deposit_limit_per_capita_fen",
               "assets.max_vehicles", "assets.max_extra_properties", "assets.business_allowed", e.area_key},
              facts, "民发〔2021〕57号 第十四条");
  }
}

// The reasons of one member's TK-1 … TK-6.
DOUDI_RULE void ExplainTekunMember(Evaluation& e, const Member& m, int age, bool tk1, bool tk2, bool tk3, bool tk4, int64_t own,
                        bool is) {
  const Facts& f = e.f;
  const Params& p = e.p;
  e.ex->Add("tekun", tk2 && !tk1 ? "TK-2" : "TK-1", tk1 || tk2,
            {"tekun.elderly_age", "tekun.no_work_capacity_under_age", "tekun.minor_support_until_age",
             "tekun.in_school_extension"},
            {{"member", m.citizen_id}, {"age", age}, {"in_school", m.in_school}, {"current", f.current_program}},
            "民发〔2021〕43号");
  e.ex->Add("tekun", "TK-3", tk3, {}, {{"member", m.citizen_id}, {"has_supporter", m.has_supporter}}, "民发〔2021〕43号");
  e.ex->Add("tekun", "TK-4", tk4, {"tekun.income_excluded_kinds", "income.pension_disregard_monthly_fen", e.area_key},
            {{"member", m.citizen_id}, {"own_income_fen", own}, {"standard_fen", e.S}}, "民发〔2021〕43号");
  if (is)
    e.ex->Add("tekun", "TK-6", true,
              {f.urban ? "tekun.basic_multiple_urban" : "tekun.basic_multiple_rural", e.area_key,
               std::string("tekun.care_") + kSelfCareNames[static_cast<int>(m.self_care)] + "_monthly_fen"},
              {{"member", m.citizen_id},
               {"basic_fen", CeilTimes(f.urban ? p.tekun_basic_urban : p.tekun_basic_rural, e.S)},
               {"care_fen", p.tekun_care[static_cast<int>(m.self_care)]}},
              "民发〔2021〕43号");
}

// TK-1 … TK-6, per member.
DOUDI_RULE void EvaluateTekun(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  for (size_t i = 0; i < e.n_h; ++i) {
    const Member& m = f.members[i];
    int age = e.ages[i];
    bool tk1 = age >= p.tekun_elderly_age || age < p.tekun_under_age || NoWorkDisability(p, m);
    bool tk2 =
        f.current_program == "tekun" && (age < p.tekun_minor_until || (m.in_school && p.tekun_in_school_extension));
    bool tk3 = !m.has_supporter;
    int64_t own = MemberIncome(p, m, p.tekun_counted);
    bool tk4 = own < e.S;
    bool tk5 = e.assets_ok || !p.assets_tekun;
    bool is = (tk1 || tk2) && tk3 && tk4 && tk5;
    if (is) {
      d.tekun = true;
      d.tekun_covered |= 1u << i;
      d.tekun_monthly += CeilTimes(f.urban ? p.tekun_basic_urban : p.tekun_basic_rural, e.S) +
                         p.tekun_care[static_cast<int>(m.self_care)];
    }
    if (e.ex && (tk1 || tk2 || tk3)) ExplainTekunMember(e, m, age, tk1, tk2, tk3, tk4, own, is);
  }
}

// H' = members not tekun (TK-7); INC-1 … INC-4.
DOUDI_RULE void CountIncome(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  for (size_t i = 0; i < e.n_h; ++i) {
    e.inc[i] = MemberIncome(p, f.members[i], p.counted);
    e.G_all += e.inc[i];
    if (e.d.tekun_covered & (1u << i)) continue;
    e.hprime |= 1u << i;
    ++e.n;
    e.G += e.inc[i];
    e.any_employed = e.any_employed || f.members[i].employed;
  }
  e.R = (p.deduct_medical ? f.medical_fen / 12 : 0) + (p.deduct_education ? f.education_fen / 12 : 0);
  e.I = std::max<int64_t>(0, e.G - e.R);
  e.Sn = static_cast<i128>(e.S) * e.n;
  if (e.ex)
    e.ex->Add("income", "INC-4", true,
              {"income.counted_kinds", "income.work_cost_deduction_monthly_fen", "income.pension_disregard_monthly_fen",
               "income.rigid_deduction_medical", "income.rigid_deduction_education"},
              {{"members", e.n}, {"gross_income_fen", e.G}, {"rigid_deduction_fen", e.R}, {"counted_income_fen", e.I},
               {"standard_fen", e.S}, {"standard_times_members_fen", static_cast<int64_t>(e.Sn)}},
              "民发〔2021〕57号 第十三条");
  e.base_ok = e.household_ok && e.n >= 1;
}

// DB-1: the household's counted income below the standard times its members.
DOUDI_RULE void EvaluateDibaoHousehold(Evaluation& e) {
  const Params& p = e.p;
  Determination& d = e.d;
  e.db1 = e.base_ok && (e.assets_ok || !p.assets_dibao) && static_cast<i128>(e.I) < e.Sn;
  if (e.db1) {
    d.dibao = true;
    d.dibao_rule = "DB-1";
    d.dibao_covered = e.hprime;
    d.dibao_base = static_cast<int64_t>(e.Sn) - e.I;
  }
  if (e.ex && e.base_ok)
    e.ex->Add("dibao", "DB-1", e.db1, {e.area_key, "dibao.amount_method", "dibao.coverage"},
              {{"counted_income_fen", e.I}, {"standard_times_members_fen", static_cast<int64_t>(e.Sn)},
               {"amount_fen", e.db1 ? d.dibao_base : 0}},
              "民发〔2021〕57号 第二十三条；民发〔2022〕83号 一（一）");
}

// DB-2: gradual exit of a dibao household whose income rose above the standard.
DOUDI_RULE Status EvaluateGradualExit(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  if (e.db1 || !e.base_ok || !(e.assets_ok || !p.assets_dibao) || f.current_program != "dibao") return Status::Ok();
  std::string start = f.current_above_since.empty() || f.current_above_since > p.date ? p.date : f.current_above_since;
  std::string end = AddMonths(start, p.gradual_exit_months);
  bool employment_ok = !p.gradual_exit_requires_employment || e.any_employed;
  e.db2 = p.date < end && employment_ok;
  if (e.db2) {
    if (!f.current_monthly_fen)
      return Status::InvalidArgument("current.monthly_fen", "渐退期需要填写现发放的低保金（current.monthly_fen）");
    d.dibao = true;
    d.dibao_rule = "DB-2";
    d.dibao_covered = e.hprime;
    d.dibao_base = *f.current_monthly_fen;
  }
  if (e.ex)
    e.ex->Add("dibao", "DB-2", e.db2,
              {"dibao.gradual_exit_months", "dibao.gradual_exit_amount", "dibao.gradual_exit_requires_employment"},
              {{"exit_start", start}, {"exit_end_exclusive", end}, {"current_monthly_fen", f.current_monthly_fen.value_or(0)}},
              "民发〔2021〕57号 第三十三条；民发〔2022〕83号 一（三）");
  return Status::Ok();
}

// MG-1.
DOUDI_RULE void EvaluateMarginal(Evaluation& e) {
  const Params& p = e.p;
  Determination& d = e.d;
  d.marginal = !e.db1 && !e.db2 && e.base_ok && (e.assets_ok || !p.assets_marginal) && e.Sn <= e.I &&
               static_cast<i128>(e.I) * p.marginal_multiple.den < p.marginal_multiple.num * e.Sn;
  if (e.ex && e.base_ok && !e.db1 && !e.db2)
    e.ex->Add("marginal", "MG-1", d.marginal, {"marginal.threshold_multiple", e.area_key},
              {{"counted_income_fen", e.I}, {"standard_times_members_fen", static_cast<int64_t>(e.Sn)},
               {"threshold_fen", (p.marginal_multiple * Rational::Int(static_cast<int64_t>(e.Sn))).Ceil()}},
              "低保边缘家庭认定规则");
}

// DB-3 single persons.
DOUDI_RULE void EvaluateSinglePersons(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  if (e.db1 || e.db2 || !e.base_ok || !p.single_enabled || !(e.assets_ok || !p.assets_dibao)) return;
  bool adult_clause_household = static_cast<i128>(e.I) * p.single_adult_multiple.den < p.single_adult_multiple.num * e.Sn;
  for (size_t i = 0; i < e.n_h; ++i) {
    if (!(e.hprime & (1u << i))) continue;
    const Member& m = f.members[i];
    bool a = d.marginal && (Severe(p, m) || (m.serious_illness && p.single_serious_illness));
    bool b = p.single_adult_unemployed && Severe(p, m) && e.ages[i] >= p.single_adult_age && !m.employed &&
             adult_clause_household;
    bool covered = (a || b) && e.inc[i] < e.S;
    if (covered) {
      d.dibao = true;
      d.dibao_single = true;
      d.dibao_rule = "DB-3";
      d.dibao_covered |= 1u << i;
      d.dibao_base += e.S - e.inc[i];
    }
    if (e.ex && (a || b))
      e.ex->Add("dibao", "DB-3", covered,
                {"single_person.enabled", "single_person.serious_illness",
                 std::string("single_person.severe_max_grade.") + kDisabilityNames[static_cast<int>(m.disability)],
                 e.area_key},
                {{"member", m.citizen_id}, {"own_income_fen", e.inc[i]}, {"amount_fen", covered ? e.S - e.inc[i] : 0}},
                "民发〔2021〕57号 第八条；民发〔2022〕83号 一（一）");
  }
}

// DB-4 supplement.
DOUDI_RULE void EvaluateSupplement(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  if (!d.dibao || e.db2 || !p.supplement_enabled) return;
  for (size_t i = 0; i < e.n_h; ++i) {
    if (!(d.dibao_covered & (1u << i))) continue;
    const Member& m = f.members[i];
    int64_t best = 0, sum = 0;
    auto consider = [&](bool applies, const Rational& mult) {
      if (!applies || mult.num == 0) return;
      int64_t v = CeilTimes(mult, e.S);
      best = std::max(best, v);
      sum += v;
    };
    consider(e.ages[i] >= p.supplement_elderly_age, p.supp_elderly);
    consider(e.ages[i] < p.supplement_minor_age, p.supp_minor);
    consider(Severe(p, m), p.supp_disability);
    consider(m.serious_illness, p.supp_illness);
    d.dibao_supplement += p.supplement_sum ? sum : best;
  }
  if (e.ex)
    e.ex->Add("dibao", "DB-4", d.dibao_supplement > 0,
              {"supplement.enabled", "supplement.elderly_age", "supplement.minor_under_age", "supplement.elderly_multiple",
               "supplement.minor_multiple", "supplement.severe_disability_multiple", "supplement.serious_illness_multiple",
               "supplement.combine"},
              {{"supplement_fen", d.dibao_supplement}}, "织府办〔2023〕43号 一、2");
}

// EH-1 and IP-1 test income before the deduction (INC-4).
DOUDI_RULE void EvaluateHardship(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  const bool below_dy = static_cast<i128>(e.G) * 12 < static_cast<i128>(e.Dy) * e.n;
  const bool not_db_mg = !e.db1 && !e.db2 && !d.marginal && e.base_ok;
  const int64_t rigid = f.medical_fen + f.education_fen;
  d.expenditure_hardship = not_db_mg && (e.assets_ok || !p.assets_eh) && below_dy && rigid > 0 &&
                           static_cast<i128>(rigid) * p.eh_share.den > p.eh_share.num * 12 * static_cast<i128>(e.G);
  if (e.ex && not_db_mg)
    e.ex->Add("expenditure_hardship", "EH-1", d.expenditure_hardship,
              {"expenditure_hardship.rigid_share_min",
               f.urban ? "stats.disposable_income_per_capita_prev_year_urban_fen"
                       : "stats.disposable_income_per_capita_prev_year_rural_fen"},
              {{"gross_income_fen", e.G}, {"annual_rigid_fen", rigid}, {"disposable_income_fen", e.Dy}, {"members", e.n}},
              "支出型困难家庭认定规则");
  if (p.ip_enabled && not_db_mg && (e.assets_ok || !p.assets_ip) && f.medical_fen > 0 && below_dy &&
      static_cast<i128>(f.medical_fen) * p.ip_share.den > p.ip_share.num * 12 * static_cast<i128>(e.G)) {
    for (size_t i = 0; i < e.n_h; ++i)
      if ((e.hprime & (1u << i)) && f.members[i].serious_illness) d.ip_covered |= 1u << i;
    d.illness_poverty = d.ip_covered != 0;
  }
  if (e.ex && not_db_mg && p.ip_enabled)
    e.ex->Add("illness_poverty", "IP-1", d.illness_poverty,
              {"illness_poverty.enabled", "illness_poverty.medical_share_min", "illness_poverty.income_test"},
              {{"gross_income_fen", e.G}, {"annual_medical_fen", f.medical_fen}}, "莘政办发〔2024〕12号 二（三）");
}

// One temporary-assistance item when the need reaches the band's minimum (capped at its maximum).
DOUDI_RULE bool AddTemporaryItem(Evaluation& e, const char* kind, int64_t need, const Rational& min, const Rational& max) {
  if (need <= 0 || static_cast<i128>(need) * min.den < min.num * e.Su) return false;
  int64_t cap = CeilTimes(max, e.Su);
  TemporaryItem it{kind, std::min(need, cap), static_cast<i128>(need) * max.den > max.num * e.Su};
  e.d.items[e.d.n_items++] = it;
  return true;
}

// TA-1: act-first emergency help.
DOUDI_RULE void EvaluateEmergency(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  if (!f.emergency || !(e.household_ok || p.no_hukou_restriction)) return;
  static constexpr const char* kItemNames[5] = {"emergency.accident", "emergency.fire", "emergency.illness",
                                                "emergency.disaster", "emergency.other"};
  int k = static_cast<int>(*f.emergency);
  bool ok = AddTemporaryItem(e, kItemNames[k], f.emergency_loss_fen, p.emergency_min[k], p.emergency_max[k]);
  if (e.ex)
    e.ex->Add("temporary", "TA-1", ok,
              {std::string("temporary.emergency.") + kEmergencyNames[k] + ".min_multiple",
               std::string("temporary.emergency.") + kEmergencyNames[k] + ".max_multiple", "dibao.urban_monthly_fen",
               "temporary.act_first"},
              {{"loss_fen", f.emergency_loss_fen}, {"urban_standard_fen", e.Su}}, "国家临时救助规则（急难型）");
}

// TA-2 and TA-3: medical and education expenditure.
DOUDI_RULE void EvaluateExpenditure(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  const bool household_below_dy = static_cast<i128>(e.G_all) * 12 < static_cast<i128>(e.Dy) * static_cast<i128>(e.n_h);
  bool any_ill = false, any_school = false;
  for (const auto& m : f.members) {
    any_ill = any_ill || m.serious_illness;
    any_school = any_school || m.in_school;
  }
  if (e.household_ok && f.medical_fen > 0 && household_below_dy && (any_ill || !p.medical_requires_illness)) {
    bool ok = AddTemporaryItem(e, "expenditure.medical", f.medical_fen, p.medical_min, p.medical_max);
    if (e.ex)
      e.ex->Add("temporary", "TA-2", ok,
                {"temporary.expenditure.medical.min_multiple", "temporary.expenditure.medical.max_multiple",
                 "dibao.urban_monthly_fen"},
                {{"annual_medical_fen", f.medical_fen}, {"urban_standard_fen", e.Su}}, "国家临时救助规则（支出型）");
  }
  if (e.household_ok && f.education_fen > 0 && household_below_dy && (any_school || !p.education_requires_school)) {
    bool ok = AddTemporaryItem(e, "expenditure.education", f.education_fen, p.education_min, p.education_max);
    if (e.ex)
      e.ex->Add("temporary", "TA-3", ok,
                {"temporary.expenditure.education.min_multiple", "temporary.expenditure.education.max_multiple",
                 "dibao.urban_monthly_fen"},
                {{"annual_education_fen", f.education_fen}, {"urban_standard_fen", e.Su}}, "国家临时救助规则（支出型）");
  }
}

// TA-4: the total and who approves it.
DOUDI_RULE void EvaluateTemporaryTotal(Evaluation& e) {
  const Params& p = e.p;
  Determination& d = e.d;
  if (d.n_items == 0) return;
  d.temporary = true;
  bool above = false;
  for (int i = 0; i < d.n_items; ++i) {
    d.temporary_amount += d.items[i].amount_fen;
    above = above || d.items[i].above_band;
  }
  d.approver = above ? p.above_band_approver.c_str()
                     : (d.temporary_amount <= p.town_ceiling ? "town" : p.above_ceiling_approver.c_str());
  if (e.ex)
    e.ex->Add("temporary", "TA-4", true,
              {"temporary.town_ceiling_fen", "temporary.above_ceiling_approver", "temporary.above_band_approver"},
              {{"amount_fen", d.temporary_amount}, {"approver", d.approver}}, "乐政办字〔2023〕10号 二（二）6");
}

// REF-1 … REF-3: what triggers each referral, and the zero-employment household.
DOUDI_RULE void EvaluateReferrals(Evaluation& e) {
  const Facts& f = e.f;
  const Params& p = e.p;
  Determination& d = e.d;
  auto bit = [](bool on, Program p) { return on ? static_cast<uint32_t>(p) : 0u; };
  uint32_t programs = bit(d.dibao, kDibao) | bit(d.tekun, kTekun) | bit(d.marginal, kMarginal) |
                      bit(d.expenditure_hardship, kExpenditureHardship) | bit(d.illness_poverty, kIllnessPoverty);
  const bool low_income = (programs & p.low_income_programs) != 0;
  uint32_t trig = 0;
  bool unemployed_able = false;
  if (low_income) {
    for (size_t i = 0; i < e.n_h; ++i) {
      const Member& m = f.members[i];
      if (m.serious_illness) trig |= kTrigSeriousIllness;
      if (m.in_school) trig |= kTrigInSchool;
      if (m.disability != DisabilityKind::kNone) trig |= kTrigDisability;
      if ((e.hprime & (1u << i)) && e.ages[i] >= p.work_age_min && e.ages[i] <= p.work_age_max && !m.employed &&
          !m.in_school && !m.serious_illness && !Severe(p, m) && !NoWorkDisability(p, m))
        unemployed_able = true;
    }
    if (f.medical_fen > 0) trig |= kTrigMedicalExpenditure;
    if (unemployed_able) trig |= kTrigUnemployedAble;
  }
  if (d.illness_poverty) trig |= kTrigIllnessPoverty;
  if (f.emergency) {
    switch (*f.emergency) {
      case EmergencyKind::kFire: trig |= kTrigFire; break;
      case EmergencyKind::kDisaster: trig |= kTrigDisaster; break;
      case EmergencyKind::kAccident: trig |= kTrigAccident; break;
      case EmergencyKind::kIllness: trig |= kTrigEmergencyIllness; break;
      default: break;
    }
  }
  for (size_t r = 0; r < p.referrals.size() && r < 8; ++r) {
    uint32_t hit = trig & p.referrals[r].triggers;
    if (hit) {
      d.referral_bits |= 1u << r;
      d.referral_triggers[r] = hit;
    }
  }
  d.zero_employment = low_income && unemployed_able && !e.any_employed;
}

}  // namespace

Result<Determination> Evaluate(const Facts& f, const Params& p, Explain* ex) {
  Determination d;
  int ages[32];
  int64_t inc[32] = {};
  Evaluation e(f, p, ex, d, ages, inc);
  CheckHukou(e);
  CheckAssets(e);
  for (size_t i = 0; i < e.n_h && i < 32; ++i) e.ages[i] = Age(f.members[i], e.dy, e.dm, e.dd);
  if (e.household_ok) EvaluateTekun(e);
  CountIncome(e);
  EvaluateDibaoHousehold(e);
  DOUDI_RETURN_IF_ERROR(EvaluateGradualExit(e));
  EvaluateMarginal(e);
  EvaluateSinglePersons(e);
  EvaluateSupplement(e);
  EvaluateHardship(e);
  EvaluateEmergency(e);
  EvaluateExpenditure(e);
  EvaluateTemporaryTotal(e);
  EvaluateReferrals(e);
  return d;
}

#undef DOUDI_RULE

// ------------------------------------------------------------------------------------------
json ToJson(const Facts& f, const Params& p, const Determination& d, const Explain* ex) {
  auto ids = [&](uint32_t bits) {
    json a = json::array();
    for (size_t i = 0; i < f.members.size(); ++i)
      if (bits & (1u << i)) a.push_back(f.members[i].citizen_id);
    return a;
  };
  auto reasons = [&](const char* program) { return ex ? ex->ReasonsFor(program, p) : json::array(); };
  json items = json::array();
  for (int i = 0; i < d.n_items; ++i)
    items.push_back({{"kind", d.items[i].kind}, {"amount_fen", d.items[i].amount_fen}, {"above_band", d.items[i].above_band}});
  json referrals = json::array();
  for (size_t r = 0; r < p.referrals.size(); ++r) {
    if (!(d.referral_bits & (1u << r))) continue;
    const auto& ref = p.referrals[r];
    json triggers = json::array();
    for (const auto& t : kTriggers)
      if (d.referral_triggers[r] & t.bit) triggers.push_back(t.name);
    json j = {{"kind", ref.kind}, {"department", ref.department}, {"department_label", ref.label}, {"triggers", triggers}};
    if (ref.kind == "employment") j["priority"] = d.zero_employment && p.zero_employment_priority;
    if (ref.kind == "housing") j["measure"] = f.urban ? p.housing_urban_measure : p.housing_rural_measure;
    referrals.push_back(std::move(j));
  }
  json general = json::array();
  if (ex) {
    for (const char* g : {"assets", "income"})
      for (auto& r : ex->ReasonsFor(g, p)) general.push_back(std::move(r));
  }
  return {
      {"county", p.county},
      {"date", p.date},
      {"dibao",
       {{"eligible", d.dibao},
        {"rule", d.dibao_rule ? json(d.dibao_rule) : json(nullptr)},
        {"coverage", d.dibao ? json(d.dibao_single ? "single_persons" : "whole_household") : json(nullptr)},
        {"covered", ids(d.dibao_covered)},
        {"monthly_fen", d.dibao_monthly()},
        {"base_monthly_fen", d.dibao_base},
        {"supplement_monthly_fen", d.dibao_supplement},
        {"reasons", reasons("dibao")}}},
      {"marginal", {{"eligible", d.marginal}, {"monthly_fen", 0}, {"reasons", reasons("marginal")}}},
      {"tekun",
       {{"eligible", d.tekun}, {"covered", ids(d.tekun_covered)}, {"monthly_fen", d.tekun_monthly},
        {"reasons", reasons("tekun")}}},
      {"temporary",
       {{"eligible", d.temporary},
        {"amount_fen", d.temporary_amount},
        {"approver", d.approver ? json(d.approver) : json(nullptr)},
        {"items", items},
        {"reasons", reasons("temporary")}}},
      {"expenditure_hardship",
       {{"eligible", d.expenditure_hardship}, {"monthly_fen", 0}, {"reasons", reasons("expenditure_hardship")}}},
      {"illness_poverty",
       {{"eligible", d.illness_poverty}, {"covered", ids(d.ip_covered)}, {"monthly_fen", 0},
        {"reasons", reasons("illness_poverty")}}},
      {"referrals", referrals},
      {"zero_employment_household", d.zero_employment},
      {"reasons", general},
  };
}

}  // namespace doudi::policy

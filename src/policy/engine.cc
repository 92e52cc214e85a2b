#include "policy/engine.h"

#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"

namespace doudi::policy {
namespace {

using nlohmann::json;

constexpr const char* kIncomeNames[kIncomeKinds] = {"wage", "business", "property", "transfer", "pension", "other"};
constexpr const char* kDisabilityNames[8] = {"", "physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"};
constexpr const char* kSelfCareNames[3] = {"full", "partial_loss", "full_loss"};
constexpr const char* kEmergencyNames[5] = {"accident", "fire", "illness", "disaster", "other"};
constexpr const char* kRelations[] = {"head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"};
constexpr const char* kReferralKinds[] = {"medical", "education", "housing", "employment", "legal", "disaster", "disability"};

// Referral trigger bits (REF-2).
enum Trigger : uint32_t {
  kTrigSeriousIllness = 1, kTrigMedicalExpenditure = 2, kTrigIllnessPoverty = 4, kTrigInSchool = 8,
  kTrigUnemployedAble = 16, kTrigDisability = 32, kTrigFire = 64, kTrigDisaster = 128, kTrigAccident = 256,
  kTrigEmergencyIllness = 512,
};
struct TriggerName {
  const char* name;
  uint32_t bit;
};
constexpr TriggerName kTriggers[] = {
    {"serious_illness", kTrigSeriousIllness}, {"medical_expenditure", kTrigMedicalExpenditure},
    {"illness_poverty", kTrigIllnessPoverty}, {"in_school", kTrigInSchool},
    {"unemployed_able_member", kTrigUnemployedAble}, {"disability", kTrigDisability},
    {"emergency_fire", kTrigFire}, {"emergency_disaster", kTrigDisaster},
    {"emergency_accident", kTrigAccident}, {"emergency_illness", kTrigEmergencyIllness},
};

template <size_t N>
int IndexOf(const std::string& v, const char* const (&set)[N]) {
  for (size_t i = 0; i < N; ++i)
    if (v == set[i]) return static_cast<int>(i);
  return -1;
}

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

Status Bad(const std::string& field, const std::string& msg) { return Status::InvalidArgument(field, msg); }

}  // namespace

// ------------------------------------------------------------------------------------------
Result<Facts> FactsFromJson(const json& j) {
  if (!j.is_object()) return Status(Code::kInvalidArgument, "malformed_json", "输入应为 JSON 对象");
  FieldReader r(j, "");
  Facts f;
  std::string area = r.String("area", true);
  f.hukou_division = r.String("hukou_division", true);
  const json* members = r.Array("members", true);
  if (!r.ok()) return r.status();
  if (area != "urban" && area != "rural") return Bad("area", "城乡类别应为 urban 或 rural");
  f.urban = area == "urban";
  if (LevelOfCode(f.hukou_division) != RegionLevel::kCounty && LevelOfCode(f.hukou_division) != RegionLevel::kVillage)
    return Bad("hukou_division", "户籍区划代码应为6位县级或12位村级代码");
  if (members->empty()) return Bad("members", "至少需要一名家庭成员");
  if (members->size() > 30) return Bad("members", "家庭成员不能超过30人");
  for (size_t i = 0; i < members->size(); ++i) {
    std::string path = "members[" + std::to_string(i) + "]";
    FieldReader mr((*members)[i], path);
    Member m;
    std::string cid = mr.String("citizen_id", true);
    m.relation = mr.String("relation", true);
    if (!mr.ok()) return mr.status();
    auto id = ParseCitizenId(cid);
    if (!id.ok()) return id.status().WithFieldPrefix(path);
    m.citizen_id = id->normalized;
    ParseDate(id->birth_date, &m.birth_y, &m.birth_m, &m.birth_d);
    if (IndexOf(m.relation, kRelations) < 0) return Bad(path + ".relation", "与户主关系无效");
    if (const json* dis = mr.Object("disability", false, true)) {
      FieldReader dr(*dis, path + ".disability");
      std::string kind = dr.String("kind", true);
      int64_t grade = dr.Int("grade", true);
      if (!dr.ok()) return dr.status();
      int k = IndexOf(kind, kDisabilityNames);
      if (k <= 0) return Bad(path + ".disability.kind", "残疾类别无效");
      if (grade < 1 || grade > 4) return Bad(path + ".disability.grade", "残疾等级应为1至4级");
      m.disability = static_cast<DisabilityKind>(k);
      m.grade = static_cast<int>(grade);
    }
    m.serious_illness = mr.Bool("serious_illness", false);
    std::string sc = mr.String("self_care", false, "full");
    m.in_school = mr.Bool("in_school", false);
    m.employed = mr.Bool("employed", false);
    m.has_supporter = mr.Bool("has_supporter", false, true);
    if (const json* inc = mr.Object("monthly_income_fen", false)) {
      FieldReader ir(*inc, path + ".monthly_income_fen");
      for (int k = 0; k < kIncomeKinds; ++k) m.income[k] = ir.Fen(kIncomeNames[k], false);
      if (!ir.ok()) return ir.status();
    }
    if (!mr.ok()) return mr.status();
    int s = IndexOf(sc, kSelfCareNames);
    if (s < 0) return Bad(path + ".self_care", "自理能力无效");
    m.self_care = static_cast<SelfCare>(s);
    f.members.push_back(std::move(m));
  }
  if (const json* a = r.Object("assets", false)) {
    FieldReader ar(*a, "assets");
    f.deposits_fen = ar.Fen("deposits_fen", false);
    f.vehicles = ar.Int("vehicles", false);
    f.extra_properties = ar.Int("extra_properties", false);
    f.business = ar.Bool("business", false);
    if (!ar.ok()) return ar.status();
    if (f.vehicles < 0) return Bad("assets.vehicles", "不能为负数");
    if (f.extra_properties < 0) return Bad("assets.extra_properties", "不能为负数");
  }
  if (const json* e = r.Object("annual_rigid_expenditure_fen", false)) {
    FieldReader er(*e, "annual_rigid_expenditure_fen");
    f.medical_fen = er.Fen("medical", false);
    f.education_fen = er.Fen("education", false);
    if (!er.ok()) return er.status();
  }
  if (const json* e = r.Object("emergency", false, true)) {
    FieldReader er(*e, "emergency");
    std::string kind = er.String("kind", true);
    f.emergency_loss_fen = er.Fen("loss_fen", true);
    if (!er.ok()) return er.status();
    int k = IndexOf(kind, kEmergencyNames);
    if (k < 0) return Bad("emergency.kind", "急难类型无效");
    f.emergency = static_cast<EmergencyKind>(k);
  }
  if (const json* c = r.Object("current", false, true)) {
    FieldReader cr(*c, "current");
    f.current_program = cr.String("program", true);
    f.current_since = cr.String("since", false);
    f.current_above_since = cr.String("income_above_standard_since", false);
    f.current_monthly_fen = cr.OptInt("monthly_fen");
    if (!cr.ok()) return cr.status();
    if (f.current_program != "dibao" && f.current_program != "tekun" && f.current_program != "marginal")
      return Bad("current.program", "现享救助类别应为 dibao、tekun 或 marginal");
    int y, m, d;
    if (!f.current_since.empty() && !ParseDate(f.current_since, &y, &m, &d))
      return Bad("current.since", "日期应为 YYYY-MM-DD");
    if (!f.current_above_since.empty() && !ParseDate(f.current_above_since, &y, &m, &d))
      return Bad("current.income_above_standard_since", "日期应为 YYYY-MM-DD");
    if (f.current_monthly_fen && *f.current_monthly_fen < 0) return Bad("current.monthly_fen", "金额不能为负数");
  }
  f.residence_permit = r.Bool("residence_permit", false);
  if (!r.ok()) return r.status();
  return f;
}

// ------------------------------------------------------------------------------------------
Result<Params> ResolveParams(const Pack& pack, const std::string& date) {
  Params p;
  p.county = pack.county();
  p.date = date;
  p.pack = &pack;
  auto I = [&](const char* k) { return pack.IntOn(k, date); };
  auto N = [&](const char* k) { return pack.NumberOn(k, date); };
  auto B = [&](const char* k) { return pack.BoolOn(k, date); };
  auto S = [&](const char* k) { return pack.StringOn(k, date); };
  auto L = [&](const std::string& k) { return pack.ListOn(k, date); };
#define GET(dst, expr) DOUDI_ASSIGN_OR_RETURN(dst, expr)
  GET(p.s_urban, I("dibao.urban_monthly_fen"));
  GET(p.s_rural, I("dibao.rural_monthly_fen"));
  GET(p.marginal_multiple, N("marginal.threshold_multiple"));
  GET(p.gradual_exit_months, I("dibao.gradual_exit_months"));
  GET(p.gradual_exit_requires_employment, B("dibao.gradual_exit_requires_employment"));
  GET(auto counted, L("income.counted_kinds"));
  GET(auto tekun_excluded, L("tekun.income_excluded_kinds"));
  for (int k = 0; k < kIncomeKinds; ++k) {
    p.counted[k] = std::find(counted.begin(), counted.end(), kIncomeNames[k]) != counted.end();
    p.tekun_counted[k] =
        p.counted[k] && std::find(tekun_excluded.begin(), tekun_excluded.end(), kIncomeNames[k]) == tekun_excluded.end();
  }
  GET(p.pension_disregard, I("income.pension_disregard_monthly_fen"));
  GET(p.work_cost, I("income.work_cost_deduction_monthly_fen"));
  GET(p.deduct_medical, B("income.rigid_deduction_medical"));
  GET(p.deduct_education, B("income.rigid_deduction_education"));
  GET(auto mode, S("assets.deposit_limit_mode"));
  p.deposit_by_multiple = mode == "multiple_of_annual_standard";
  GET(p.deposit_multiple, N("assets.deposit_limit_multiple"));
  GET(p.deposit_per_capita, I("assets.deposit_limit_per_capita_fen"));
  GET(p.max_vehicles, I("assets.max_vehicles"));
  GET(p.max_extra_properties, I("assets.max_extra_properties"));
  GET(p.business_allowed, B("assets.business_allowed"));
  GET(auto apply, L("assets.apply_to"));
  auto in = [](const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  p.assets_dibao = in(apply, "dibao");
  p.assets_marginal = in(apply, "marginal");
  p.assets_tekun = in(apply, "tekun");
  p.assets_eh = in(apply, "expenditure_hardship");
  p.assets_ip = in(apply, "illness_poverty");
  GET(p.single_enabled, B("single_person.enabled"));
  GET(p.single_serious_illness, B("single_person.serious_illness"));
  GET(p.single_adult_unemployed, B("single_person.adult_unemployed_severe_disability"));
  GET(p.single_adult_age, I("single_person.adult_age"));
  GET(p.single_adult_multiple, N("single_person.adult_unemployed_household_multiple"));
  for (int k = 1; k < 8; ++k) {
    GET(int64_t g, pack.IntOn(std::string("single_person.severe_max_grade.") + kDisabilityNames[k], date));
    p.severe_max_grade[k] = static_cast<int>(g);
    GET(int64_t t, pack.IntOn(std::string("tekun.no_work_capacity_max_grade.") + kDisabilityNames[k], date));
    p.tekun_max_grade[k] = static_cast<int>(t);
  }
  GET(p.tekun_basic_urban, N("tekun.basic_multiple_urban"));
  GET(p.tekun_basic_rural, N("tekun.basic_multiple_rural"));
  GET(p.tekun_care[0], I("tekun.care_full_monthly_fen"));
  GET(p.tekun_care[1], I("tekun.care_partial_loss_monthly_fen"));
  GET(p.tekun_care[2], I("tekun.care_full_loss_monthly_fen"));
  GET(p.tekun_elderly_age, I("tekun.elderly_age"));
  GET(p.tekun_under_age, I("tekun.no_work_capacity_under_age"));
  GET(p.tekun_minor_until, I("tekun.minor_support_until_age"));
  GET(p.tekun_in_school_extension, B("tekun.in_school_extension"));
  for (int k = 0; k < 5; ++k) {
    std::string base = std::string("temporary.emergency.") + kEmergencyNames[k];
    GET(p.emergency_min[k], pack.NumberOn(base + ".min_multiple", date));
    GET(p.emergency_max[k], pack.NumberOn(base + ".max_multiple", date));
  }
  GET(p.medical_min, N("temporary.expenditure.medical.min_multiple"));
  GET(p.medical_max, N("temporary.expenditure.medical.max_multiple"));
  GET(p.education_min, N("temporary.expenditure.education.min_multiple"));
  GET(p.education_max, N("temporary.expenditure.education.max_multiple"));
  GET(p.medical_requires_illness, B("temporary.expenditure.medical.requires_serious_illness"));
  GET(p.education_requires_school, B("temporary.expenditure.education.requires_in_school"));
  GET(p.town_ceiling, I("temporary.town_ceiling_fen"));
  GET(p.above_ceiling_approver, S("temporary.above_ceiling_approver"));
  GET(p.above_band_approver, S("temporary.above_band_approver"));
  GET(p.no_hukou_restriction, B("temporary.no_hukou_restriction"));
  GET(p.residence_permit_dibao, B("intake.residence_permit_dibao"));
  GET(p.supplement_enabled, B("supplement.enabled"));
  GET(auto combine, S("supplement.combine"));
  p.supplement_sum = combine == "sum";
  GET(p.supplement_elderly_age, I("supplement.elderly_age"));
  GET(p.supplement_minor_age, I("supplement.minor_under_age"));
  GET(p.supp_elderly, N("supplement.elderly_multiple"));
  GET(p.supp_minor, N("supplement.minor_multiple"));
  GET(p.supp_disability, N("supplement.severe_disability_multiple"));
  GET(p.supp_illness, N("supplement.serious_illness_multiple"));
  GET(p.eh_share, N("expenditure_hardship.rigid_share_min"));
  GET(p.ip_share, N("illness_poverty.medical_share_min"));
  GET(p.ip_enabled, B("illness_poverty.enabled"));
  GET(p.dy_urban, I("stats.disposable_income_per_capita_prev_year_urban_fen"));
  GET(p.dy_rural, I("stats.disposable_income_per_capita_prev_year_rural_fen"));
  for (const char* kind : kReferralKinds) {
    Params::Referral ref;
    ref.kind = kind;
    std::string base = std::string("referral.") + kind;
    GET(ref.department, pack.StringOn(base + ".department", date));
    GET(ref.label, pack.StringOn(base + ".department_label", date));
    GET(auto triggers, pack.ListOn(base + ".triggers", date));
    for (const auto& t : triggers)
      for (const auto& tn : kTriggers)
        if (t == tn.name) ref.triggers |= tn.bit;
    p.referrals.push_back(std::move(ref));
  }
  GET(auto low, L("referral.low_income_programs"));
  if (in(low, "dibao")) p.low_income_programs |= kDibao;
  if (in(low, "tekun")) p.low_income_programs |= kTekun;
  if (in(low, "marginal")) p.low_income_programs |= kMarginal;
  if (in(low, "expenditure_hardship")) p.low_income_programs |= kExpenditureHardship;
  if (in(low, "illness_poverty")) p.low_income_programs |= kIllnessPoverty;
  GET(p.work_age_min, I("referral.employment.working_age_min"));
  GET(p.work_age_max, I("referral.employment.working_age_max"));
  GET(p.zero_employment_priority, B("referral.employment.zero_employment_priority"));
  GET(p.housing_rural_measure, S("referral.housing.rural_measure"));
  GET(p.housing_urban_measure, S("referral.housing.urban_measure"));
#undef GET
  return p;
}

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
Result<Determination> Evaluate(const Facts& f, const Params& p, Explain* ex) {
  Determination d;
  int dy, dm, dd;
  ParseDate(p.date, &dy, &dm, &dd);
  const size_t n_h = f.members.size();
  const int64_t S = f.urban ? p.s_urban : p.s_rural;
  const int64_t Su = p.s_urban;
  const int64_t Dy = f.urban ? p.dy_urban : p.dy_rural;
  const char* area_key = f.urban ? "dibao.urban_monthly_fen" : "dibao.rural_monthly_fen";

  // HUK-1
  const bool local = CodeWithin(f.hukou_division, p.county);
  const bool household_ok = local || (p.residence_permit_dibao && f.residence_permit);
  if (ex)
    ex->Add("dibao", "HUK-1", household_ok, {"intake.residence_permit_dibao"},
            {{"hukou_division", f.hukou_division}, {"local", local}, {"residence_permit", f.residence_permit}},
            "民发〔2021〕57号 第四条、第五条");

  // AST-1 over the whole household.
  const bool deposits_ok =
      p.deposit_by_multiple
          ? static_cast<i128>(f.deposits_fen) * p.deposit_multiple.den <=
                p.deposit_multiple.num * 12 * S * static_cast<i128>(n_h)
          : static_cast<i128>(f.deposits_fen) <= static_cast<i128>(p.deposit_per_capita) * static_cast<i128>(n_h);
  const bool assets_ok = deposits_ok && f.vehicles <= p.max_vehicles && f.extra_properties <= p.max_extra_properties &&
                         (!f.business || p.business_allowed);
  if (ex) {
    json facts = {{"deposits_fen", f.deposits_fen}, {"vehicles", f.vehicles}, {"extra_properties", f.extra_properties},
                  {"business", f.business}, {"members", n_h}};
    if (p.deposit_by_multiple)
      facts["deposit_limit_fen"] = (p.deposit_multiple * Rational::Int(12 * S * static_cast<int64_t>(n_h))).Floor();
    ex->Add("assets", "AST-1", assets_ok,
            {"assets.deposit_limit_mode", "assets.deposit_limit_multiple", "assets.deposit_limit_per_capita_fen",
             "assets.max_vehicles", "assets.max_extra_properties", "assets.business_allowed", area_key},
            facts, "民发〔2021〕57号 第十四条");
  }

  auto member_income = [&](const Member& m, const std::array<bool, kIncomeKinds>& counted) {
    int64_t sum = 0;
    for (int k = 0; k < kIncomeKinds; ++k) {
      if (!counted[k]) continue;
      int64_t v = m.income[k];
      if (k == kWage) v = std::max<int64_t>(0, v - (v > 0 ? p.work_cost : 0));
      if (k == kPension) v = std::max<int64_t>(0, v - p.pension_disregard);
      sum += v;
    }
    return sum;
  };
  auto severe = [&](const Member& m) {
    return m.disability != DisabilityKind::kNone && m.grade <= p.severe_max_grade[static_cast<int>(m.disability)];
  };
  auto no_work_disability = [&](const Member& m) {
    return m.disability != DisabilityKind::kNone && m.grade <= p.tekun_max_grade[static_cast<int>(m.disability)];
  };

  // TK-1 … TK-6, per member.
  int ages[32];
  for (size_t i = 0; i < n_h && i < 32; ++i) ages[i] = Age(f.members[i], dy, dm, dd);
  if (household_ok) {
    for (size_t i = 0; i < n_h; ++i) {
      const Member& m = f.members[i];
      int age = ages[i];
      bool tk1 = age >= p.tekun_elderly_age || age < p.tekun_under_age || no_work_disability(m);
      bool tk2 = f.current_program == "tekun" &&
                 (age < p.tekun_minor_until || (m.in_school && p.tekun_in_school_extension));
      bool tk3 = !m.has_supporter;
      int64_t own = member_income(m, p.tekun_counted);
      bool tk4 = own < S;
      bool tk5 = assets_ok || !p.assets_tekun;
      bool is = (tk1 || tk2) && tk3 && tk4 && tk5;
      if (is) {
        d.tekun = true;
        d.tekun_covered |= 1u << i;
        d.tekun_monthly += CeilTimes(f.urban ? p.tekun_basic_urban : p.tekun_basic_rural, S) +
                           p.tekun_care[static_cast<int>(m.self_care)];
      }
      if (ex && (tk1 || tk2 || tk3)) {
        ex->Add("tekun", tk2 && !tk1 ? "TK-2" : "TK-1", tk1 || tk2,
                {"tekun.elderly_age", "tekun.no_work_capacity_under_age", "tekun.minor_support_until_age",
                 "tekun.in_school_extension"},
                {{"member", m.citizen_id}, {"age", age}, {"in_school", m.in_school}, {"current", f.current_program}},
                "民发〔2021〕43号");
        ex->Add("tekun", "TK-3", tk3, {}, {{"member", m.citizen_id}, {"has_supporter", m.has_supporter}}, "民发〔2021〕43号");
        ex->Add("tekun", "TK-4", tk4,
                {"tekun.income_excluded_kinds", "income.pension_disregard_monthly_fen", area_key},
                {{"member", m.citizen_id}, {"own_income_fen", own}, {"standard_fen", S}}, "民发〔2021〕43号");
        if (is)
          ex->Add("tekun", "TK-6", true,
                  {f.urban ? "tekun.basic_multiple_urban" : "tekun.basic_multiple_rural", area_key,
                   std::string("tekun.care_") + kSelfCareNames[static_cast<int>(m.self_care)] + "_monthly_fen"},
                  {{"member", m.citizen_id},
                   {"basic_fen", CeilTimes(f.urban ? p.tekun_basic_urban : p.tekun_basic_rural, S)},
                   {"care_fen", p.tekun_care[static_cast<int>(m.self_care)]}},
                  "民发〔2021〕43号");
      }
    }
  }

  // H' = members not tekun (TK-7); INC-1 … INC-4.
  int64_t n = 0, G = 0, G_all = 0;
  uint32_t hprime = 0;
  bool any_employed = false;
  int64_t inc[32] = {};
  for (size_t i = 0; i < n_h; ++i) {
    inc[i] = member_income(f.members[i], p.counted);
    G_all += inc[i];
    if (d.tekun_covered & (1u << i)) continue;
    hprime |= 1u << i;
    ++n;
    G += inc[i];
    any_employed = any_employed || f.members[i].employed;
  }
  const int64_t R = (p.deduct_medical ? f.medical_fen / 12 : 0) + (p.deduct_education ? f.education_fen / 12 : 0);
  const int64_t I = std::max<int64_t>(0, G - R);
  const i128 Sn = static_cast<i128>(S) * n;
  if (ex)
    ex->Add("income", "INC-4", true,
            {"income.counted_kinds", "income.work_cost_deduction_monthly_fen", "income.pension_disregard_monthly_fen",
             "income.rigid_deduction_medical", "income.rigid_deduction_education"},
            {{"members", n}, {"gross_income_fen", G}, {"rigid_deduction_fen", R}, {"counted_income_fen", I},
             {"standard_fen", S}, {"standard_times_members_fen", static_cast<int64_t>(Sn)}},
            "民发〔2021〕57号 第十三条");

  const bool base_ok = household_ok && n >= 1;
  // DB-1
  bool db1 = base_ok && (assets_ok || !p.assets_dibao) && static_cast<i128>(I) < Sn;
  if (db1) {
    d.dibao = true;
    d.dibao_rule = "DB-1";
    d.dibao_covered = hprime;
    d.dibao_base = static_cast<int64_t>(Sn) - I;
  }
  if (ex && base_ok)
    ex->Add("dibao", "DB-1", db1, {area_key, "dibao.amount_method", "dibao.coverage"},
            {{"counted_income_fen", I}, {"standard_times_members_fen", static_cast<int64_t>(Sn)},
             {"amount_fen", db1 ? d.dibao_base : 0}},
            "民发〔2021〕57号 第二十三条；民发〔2022〕83号 一（一）");
  // DB-2
  bool db2 = false;
  if (!db1 && base_ok && (assets_ok || !p.assets_dibao) && f.current_program == "dibao") {
    std::string start = f.current_above_since.empty() || f.current_above_since > p.date ? p.date : f.current_above_since;
    std::string end = AddMonths(start, p.gradual_exit_months);
    bool employment_ok = !p.gradual_exit_requires_employment || any_employed;
    db2 = p.date < end && employment_ok;
    if (db2) {
      if (!f.current_monthly_fen)
        return Status::InvalidArgument("current.monthly_fen", "渐退期需要填写现发放的低保金（current.monthly_fen）");
      d.dibao = true;
      d.dibao_rule = "DB-2";
      d.dibao_covered = hprime;
      d.dibao_base = *f.current_monthly_fen;
    }
    if (ex)
      ex->Add("dibao", "DB-2", db2,
              {"dibao.gradual_exit_months", "dibao.gradual_exit_amount", "dibao.gradual_exit_requires_employment"},
              {{"exit_start", start}, {"exit_end_exclusive", end}, {"current_monthly_fen", f.current_monthly_fen.value_or(0)}},
              "民发〔2021〕57号 第三十三条；民发〔2022〕83号 一（三）");
  }
  // MG-1
  d.marginal = !db1 && !db2 && base_ok && (assets_ok || !p.assets_marginal) && Sn <= I &&
               static_cast<i128>(I) * p.marginal_multiple.den < p.marginal_multiple.num * Sn;
  if (ex && base_ok && !db1 && !db2)
    ex->Add("marginal", "MG-1", d.marginal, {"marginal.threshold_multiple", area_key},
            {{"counted_income_fen", I}, {"standard_times_members_fen", static_cast<int64_t>(Sn)},
             {"threshold_fen", (p.marginal_multiple * Rational::Int(static_cast<int64_t>(Sn))).Ceil()}},
            "低保边缘家庭认定规则");
  // DB-3 single persons.
  if (!db1 && !db2 && base_ok && p.single_enabled && (assets_ok || !p.assets_dibao)) {
    bool adult_clause_household = static_cast<i128>(I) * p.single_adult_multiple.den < p.single_adult_multiple.num * Sn;
    for (size_t i = 0; i < n_h; ++i) {
      if (!(hprime & (1u << i))) continue;
      const Member& m = f.members[i];
      bool a = d.marginal && (severe(m) || (m.serious_illness && p.single_serious_illness));
      bool b = p.single_adult_unemployed && severe(m) && ages[i] >= p.single_adult_age && !m.employed &&
               adult_clause_household;
      bool covered = (a || b) && inc[i] < S;
      if (covered) {
        d.dibao = true;
        d.dibao_single = true;
        d.dibao_rule = "DB-3";
        d.dibao_covered |= 1u << i;
        d.dibao_base += S - inc[i];
      }
      if (ex && (a || b))
        ex->Add("dibao", "DB-3", covered,
                {"single_person.enabled", "single_person.serious_illness",
                 std::string("single_person.severe_max_grade.") + kDisabilityNames[static_cast<int>(m.disability)],
                 area_key},
                {{"member", m.citizen_id}, {"own_income_fen", inc[i]}, {"amount_fen", covered ? S - inc[i] : 0}},
                "民发〔2021〕57号 第八条；民发〔2022〕83号 一（一）");
    }
  }
  // DB-4 supplement.
  if (d.dibao && !db2 && p.supplement_enabled) {
    for (size_t i = 0; i < n_h; ++i) {
      if (!(d.dibao_covered & (1u << i))) continue;
      const Member& m = f.members[i];
      int64_t best = 0, sum = 0;
      auto consider = [&](bool applies, const Rational& mult) {
        if (!applies || mult.num == 0) return;
        int64_t v = CeilTimes(mult, S);
        best = std::max(best, v);
        sum += v;
      };
      consider(ages[i] >= p.supplement_elderly_age, p.supp_elderly);
      consider(ages[i] < p.supplement_minor_age, p.supp_minor);
      consider(severe(m), p.supp_disability);
      consider(m.serious_illness, p.supp_illness);
      d.dibao_supplement += p.supplement_sum ? sum : best;
    }
    if (ex)
      ex->Add("dibao", "DB-4", d.dibao_supplement > 0,
              {"supplement.enabled", "supplement.elderly_age", "supplement.minor_under_age", "supplement.elderly_multiple",
               "supplement.minor_multiple", "supplement.severe_disability_multiple", "supplement.serious_illness_multiple",
               "supplement.combine"},
              {{"supplement_fen", d.dibao_supplement}}, "织府办〔2023〕43号 一、2");
  }
  // EH-1 and IP-1 test income before the deduction (INC-4).
  const bool below_dy = static_cast<i128>(G) * 12 < static_cast<i128>(Dy) * n;
  const bool not_db_mg = !db1 && !db2 && !d.marginal && base_ok;
  const int64_t rigid = f.medical_fen + f.education_fen;
  d.expenditure_hardship = not_db_mg && (assets_ok || !p.assets_eh) && below_dy && rigid > 0 &&
                           static_cast<i128>(rigid) * p.eh_share.den > p.eh_share.num * 12 * static_cast<i128>(G);
  if (ex && not_db_mg)
    ex->Add("expenditure_hardship", "EH-1", d.expenditure_hardship,
            {"expenditure_hardship.rigid_share_min",
             f.urban ? "stats.disposable_income_per_capita_prev_year_urban_fen"
                     : "stats.disposable_income_per_capita_prev_year_rural_fen"},
            {{"gross_income_fen", G}, {"annual_rigid_fen", rigid}, {"disposable_income_fen", Dy}, {"members", n}},
            "支出型困难家庭认定规则");
  if (p.ip_enabled && not_db_mg && (assets_ok || !p.assets_ip) && f.medical_fen > 0 && below_dy &&
      static_cast<i128>(f.medical_fen) * p.ip_share.den > p.ip_share.num * 12 * static_cast<i128>(G)) {
    for (size_t i = 0; i < n_h; ++i)
      if ((hprime & (1u << i)) && f.members[i].serious_illness) d.ip_covered |= 1u << i;
    d.illness_poverty = d.ip_covered != 0;
  }
  if (ex && not_db_mg && p.ip_enabled)
    ex->Add("illness_poverty", "IP-1", d.illness_poverty,
            {"illness_poverty.enabled", "illness_poverty.medical_share_min", "illness_poverty.income_test"},
            {{"gross_income_fen", G}, {"annual_medical_fen", f.medical_fen}}, "莘政办发〔2024〕12号 二（三）");

  // TA-1 … TA-4 on the whole household.
  auto add_item = [&](const char* kind, int64_t need, const Rational& min, const Rational& max) {
    if (need <= 0 || static_cast<i128>(need) * min.den < min.num * Su) return false;
    int64_t cap = CeilTimes(max, Su);
    TemporaryItem it{kind, std::min(need, cap), static_cast<i128>(need) * max.den > max.num * Su};
    d.items[d.n_items++] = it;
    return true;
  };
  if (f.emergency && (household_ok || p.no_hukou_restriction)) {
    static constexpr const char* kItemNames[5] = {"emergency.accident", "emergency.fire", "emergency.illness",
                                                  "emergency.disaster", "emergency.other"};
    int k = static_cast<int>(*f.emergency);
    bool ok = add_item(kItemNames[k], f.emergency_loss_fen, p.emergency_min[k], p.emergency_max[k]);
    if (ex)
      ex->Add("temporary", "TA-1", ok,
              {std::string("temporary.emergency.") + kEmergencyNames[k] + ".min_multiple",
               std::string("temporary.emergency.") + kEmergencyNames[k] + ".max_multiple", "dibao.urban_monthly_fen",
               "temporary.act_first"},
              {{"loss_fen", f.emergency_loss_fen}, {"urban_standard_fen", Su}}, "国家临时救助规则（急难型）");
  }
  const bool household_below_dy = static_cast<i128>(G_all) * 12 < static_cast<i128>(Dy) * static_cast<i128>(n_h);
  bool any_ill = false, any_school = false;
  for (const auto& m : f.members) {
    any_ill = any_ill || m.serious_illness;
    any_school = any_school || m.in_school;
  }
  if (household_ok && f.medical_fen > 0 && household_below_dy && (any_ill || !p.medical_requires_illness)) {
    bool ok = add_item("expenditure.medical", f.medical_fen, p.medical_min, p.medical_max);
    if (ex)
      ex->Add("temporary", "TA-2", ok,
              {"temporary.expenditure.medical.min_multiple", "temporary.expenditure.medical.max_multiple",
               "dibao.urban_monthly_fen"},
              {{"annual_medical_fen", f.medical_fen}, {"urban_standard_fen", Su}}, "国家临时救助规则（支出型）");
  }
  if (household_ok && f.education_fen > 0 && household_below_dy && (any_school || !p.education_requires_school)) {
    bool ok = add_item("expenditure.education", f.education_fen, p.education_min, p.education_max);
    if (ex)
      ex->Add("temporary", "TA-3", ok,
              {"temporary.expenditure.education.min_multiple", "temporary.expenditure.education.max_multiple",
               "dibao.urban_monthly_fen"},
              {{"annual_education_fen", f.education_fen}, {"urban_standard_fen", Su}}, "国家临时救助规则（支出型）");
  }
  if (d.n_items > 0) {
    d.temporary = true;
    bool above = false;
    for (int i = 0; i < d.n_items; ++i) {
      d.temporary_amount += d.items[i].amount_fen;
      above = above || d.items[i].above_band;
    }
    d.approver = above ? p.above_band_approver.c_str()
                       : (d.temporary_amount <= p.town_ceiling ? "town" : p.above_ceiling_approver.c_str());
    if (ex)
      ex->Add("temporary", "TA-4", true,
              {"temporary.town_ceiling_fen", "temporary.above_ceiling_approver", "temporary.above_band_approver"},
              {{"amount_fen", d.temporary_amount}, {"approver", d.approver}}, "乐政办字〔2023〕10号 二（二）6");
  }

  // REF-1 … REF-3.
  auto bit = [](bool on, Program p) { return on ? static_cast<uint32_t>(p) : 0u; };
  uint32_t programs = bit(d.dibao, kDibao) | bit(d.tekun, kTekun) | bit(d.marginal, kMarginal) |
                      bit(d.expenditure_hardship, kExpenditureHardship) | bit(d.illness_poverty, kIllnessPoverty);
  const bool low_income = (programs & p.low_income_programs) != 0;
  uint32_t trig = 0;
  bool unemployed_able = false;
  if (low_income) {
    for (size_t i = 0; i < n_h; ++i) {
      const Member& m = f.members[i];
      if (m.serious_illness) trig |= kTrigSeriousIllness;
      if (m.in_school) trig |= kTrigInSchool;
      if (m.disability != DisabilityKind::kNone) trig |= kTrigDisability;
      if ((hprime & (1u << i)) && ages[i] >= p.work_age_min && ages[i] <= p.work_age_max && !m.employed &&
          !m.in_school && !m.serious_illness && !severe(m) && !no_work_disability(m))
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
  d.zero_employment = low_income && unemployed_able && !any_employed;
  return d;
}

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

// The engine's inputs: a household's facts read from JSON (VAL-1) and a pack's parameters
// resolved on a date into typed fields (GEN-1). The rules themselves are in engine.cc.
#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "policy/engine.h"
#include "policy/engine_tables.h"

namespace doudi::policy {
namespace {

using nlohmann::json;
using namespace detail;

Status Bad(const std::string& field, const std::string& msg) { return Status::InvalidArgument(field, msg); }

// members[i].disability: kind and grade (1 to 4).
Status ReadDisability(const json& dis, const std::string& path, Member& m) {
  FieldReader dr(dis, path + ".disability");
  std::string kind = dr.String("kind", true);
  int64_t grade = dr.Int("grade", true);
  if (!dr.ok()) return dr.status();
  int k = IndexOf(kind, kDisabilityNames);
  if (k <= 0) return Bad(path + ".disability.kind", "残疾类别无效");
  if (grade < 1 || grade > 4) return Bad(path + ".disability.grade", "残疾等级应为1至4级");
  m.disability = static_cast<DisabilityKind>(k);
  m.grade = static_cast<int>(grade);
  return Status::Ok();
}

// members[i]: the citizen id (birth date from it), relation, disability, incomes and the rest.
Result<Member> ReadMember(const json& j, const std::string& path) {
  FieldReader mr(j, path);
  Member m;
  std::string cid = mr.String("citizen_id", true);
  m.relation = mr.String("relation", true);
  if (!mr.ok()) return mr.status();
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status().WithFieldPrefix(path);
  m.citizen_id = id->normalized;
  ParseDate(id->birth_date, &m.birth_y, &m.birth_m, &m.birth_d);
  if (IndexOf(m.relation, kRelations) < 0) return Bad(path + ".relation", "与户主关系无效");
  if (const json* dis = mr.Object("disability", false, true)) DOUDI_RETURN_IF_ERROR(ReadDisability(*dis, path, m));
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
  return m;
}

// assets and annual_rigid_expenditure_fen.
Status ReadAssetsAndExpenditure(FieldReader& r, Facts& f) {
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
  return Status::Ok();
}

// emergency: kind and loss.
Status ReadEmergency(const json& e, Facts& f) {
  FieldReader er(e, "emergency");
  std::string kind = er.String("kind", true);
  f.emergency_loss_fen = er.Fen("loss_fen", true);
  if (!er.ok()) return er.status();
  int k = IndexOf(kind, kEmergencyNames);
  if (k < 0) return Bad("emergency.kind", "急难类型无效");
  f.emergency = static_cast<EmergencyKind>(k);
  return Status::Ok();
}

// current: the programme the household has now (for TK-2 and the gradual exit DB-2).
Status ReadCurrent(const json& c, Facts& f) {
  FieldReader cr(c, "current");
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
  return Status::Ok();
}

}  // namespace

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
    DOUDI_ASSIGN_OR_RETURN(Member m, ReadMember((*members)[i], "members[" + std::to_string(i) + "]"));
    f.members.push_back(std::move(m));
  }
  DOUDI_RETURN_IF_ERROR(ReadAssetsAndExpenditure(r, f));
  if (const json* e = r.Object("emergency", false, true)) DOUDI_RETURN_IF_ERROR(ReadEmergency(*e, f));
  if (const json* c = r.Object("current", false, true)) DOUDI_RETURN_IF_ERROR(ReadCurrent(*c, f));
  f.residence_permit = r.Bool("residence_permit", false);
  if (!r.ok()) return r.status();
  return f;
}

// ------------------------------------------------------------------------------------------
namespace {

// A pack's parameters on one date, by type.
struct On {
  const Pack& pack;
  const std::string& date;
  Result<int64_t> I(const std::string& k) const { return pack.IntOn(k, date); }
  Result<Rational> N(const std::string& k) const { return pack.NumberOn(k, date); }
  Result<bool> B(const std::string& k) const { return pack.BoolOn(k, date); }
  Result<std::string> S(const std::string& k) const { return pack.StringOn(k, date); }
  Result<std::vector<std::string>> L(const std::string& k) const { return pack.ListOn(k, date); }
};

bool Contains(const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// Each group below reads its parameters in the order of the pack's chapters; the first
// missing one is the error (GEN-1).
#define GET(dst, expr) DOUDI_ASSIGN_OR_RETURN(dst, expr)

// The dibao standards and gradual exit; which incomes count and what is deducted (INC-*).
Status ResolveDibaoAndIncome(const On& on, Params& p) {
  GET(p.s_urban, on.I("dibao.urban_monthly_fen"));
  GET(p.s_rural, on.I("dibao.rural_monthly_fen"));
  GET(p.marginal_multiple, on.N("marginal.threshold_multiple"));
  GET(p.gradual_exit_months, on.I("dibao.gradual_exit_months"));
  GET(p.gradual_exit_requires_employment, on.B("dibao.gradual_exit_requires_employment"));
  GET(auto counted, on.L("income.counted_kinds"));
  GET(auto tekun_excluded, on.L("tekun.income_excluded_kinds"));
  for (int k = 0; k < kIncomeKinds; ++k) {
    p.counted[k] = std::find(counted.begin(), counted.end(), kIncomeNames[k]) != counted.end();
    p.tekun_counted[k] =
        p.counted[k] && std::find(tekun_excluded.begin(), tekun_excluded.end(), kIncomeNames[k]) == tekun_excluded.end();
  }
  GET(p.pension_disregard, on.I("income.pension_disregard_monthly_fen"));
  GET(p.work_cost, on.I("income.work_cost_deduction_monthly_fen"));
  GET(p.deduct_medical, on.B("income.rigid_deduction_medical"));
  GET(p.deduct_education, on.B("income.rigid_deduction_education"));
  return Status::Ok();
}

// AST-1's limits and the programmes they apply to.
Status ResolveAssets(const On& on, Params& p) {
  GET(auto mode, on.S("assets.deposit_limit_mode"));
  p.deposit_by_multiple = mode == "multiple_of_annual_standard";
  GET(p.deposit_multiple, on.N("assets.deposit_limit_multiple"));
  GET(p.deposit_per_capita, on.I("assets.deposit_limit_per_capita_fen"));
  GET(p.max_vehicles, on.I("assets.max_vehicles"));
  GET(p.max_extra_properties, on.I("assets.max_extra_properties"));
  GET(p.business_allowed, on.B("assets.business_allowed"));
  GET(auto apply, on.L("assets.apply_to"));
  p.assets_dibao = Contains(apply, "dibao");
  p.assets_marginal = Contains(apply, "marginal");
  p.assets_tekun = Contains(apply, "tekun");
  p.assets_eh = Contains(apply, "expenditure_hardship");
  p.assets_ip = Contains(apply, "illness_poverty");
  return Status::Ok();
}

// Single persons (DB-3) and, by disability kind, the grades that count as severe (DB-3) and
// as no capacity to work (TK-1); then tekun's amounts and ages.
Status ResolveSinglePersonAndTekun(const On& on, Params& p) {
  GET(p.single_enabled, on.B("single_person.enabled"));
  GET(p.single_serious_illness, on.B("single_person.serious_illness"));
  GET(p.single_adult_unemployed, on.B("single_person.adult_unemployed_severe_disability"));
  GET(p.single_adult_age, on.I("single_person.adult_age"));
  GET(p.single_adult_multiple, on.N("single_person.adult_unemployed_household_multiple"));
  for (int k = 1; k < 8; ++k) {
    GET(int64_t g, on.I(std::string("single_person.severe_max_grade.") + kDisabilityNames[k]));
    p.severe_max_grade[k] = static_cast<int>(g);
    GET(int64_t t, on.I(std::string("tekun.no_work_capacity_max_grade.") + kDisabilityNames[k]));
    p.tekun_max_grade[k] = static_cast<int>(t);
  }
  GET(p.tekun_basic_urban, on.N("tekun.basic_multiple_urban"));
  GET(p.tekun_basic_rural, on.N("tekun.basic_multiple_rural"));
  GET(p.tekun_care[0], on.I("tekun.care_full_monthly_fen"));
  GET(p.tekun_care[1], on.I("tekun.care_partial_loss_monthly_fen"));
  GET(p.tekun_care[2], on.I("tekun.care_full_loss_monthly_fen"));
  GET(p.tekun_elderly_age, on.I("tekun.elderly_age"));
  GET(p.tekun_under_age, on.I("tekun.no_work_capacity_under_age"));
  GET(p.tekun_minor_until, on.I("tekun.minor_support_until_age"));
  GET(p.tekun_in_school_extension, on.B("tekun.in_school_extension"));
  return Status::Ok();
}

// Temporary assistance (TA-*): the bands by emergency kind and expenditure, the approvers;
// then the intake rule for residence permits.
Status ResolveTemporary(const On& on, Params& p) {
  for (int k = 0; k < 5; ++k) {
    std::string base = std::string("temporary.emergency.") + kEmergencyNames[k];
    GET(p.emergency_min[k], on.N(base + ".min_multiple"));
    GET(p.emergency_max[k], on.N(base + ".max_multiple"));
  }
  GET(p.medical_min, on.N("temporary.expenditure.medical.min_multiple"));
  GET(p.medical_max, on.N("temporary.expenditure.medical.max_multiple"));
  GET(p.education_min, on.N("temporary.expenditure.education.min_multiple"));
  GET(p.education_max, on.N("temporary.expenditure.education.max_multiple"));
  GET(p.medical_requires_illness, on.B("temporary.expenditure.medical.requires_serious_illness"));
  GET(p.education_requires_school, on.B("temporary.expenditure.education.requires_in_school"));
  GET(p.town_ceiling, on.I("temporary.town_ceiling_fen"));
  GET(p.above_ceiling_approver, on.S("temporary.above_ceiling_approver"));
  GET(p.above_band_approver, on.S("temporary.above_band_approver"));
  GET(p.no_hukou_restriction, on.B("temporary.no_hukou_restriction"));
  GET(p.residence_permit_dibao, on.B("intake.residence_permit_dibao"));
  return Status::Ok();
}

// The dibao supplement (DB-4), the hardship shares (EH-1, IP-1) and last year's incomes.
Status ResolveSupplementAndHardship(const On& on, Params& p) {
  GET(p.supplement_enabled, on.B("supplement.enabled"));
  GET(auto combine, on.S("supplement.combine"));
  p.supplement_sum = combine == "sum";
  GET(p.supplement_elderly_age, on.I("supplement.elderly_age"));
  GET(p.supplement_minor_age, on.I("supplement.minor_under_age"));
  GET(p.supp_elderly, on.N("supplement.elderly_multiple"));
  GET(p.supp_minor, on.N("supplement.minor_multiple"));
  GET(p.supp_disability, on.N("supplement.severe_disability_multiple"));
  GET(p.supp_illness, on.N("supplement.serious_illness_multiple"));
  GET(p.eh_share, on.N("expenditure_hardship.rigid_share_min"));
  GET(p.ip_share, on.N("illness_poverty.medical_share_min"));
  GET(p.ip_enabled, on.B("illness_poverty.enabled"));
  GET(p.dy_urban, on.I("stats.disposable_income_per_capita_prev_year_urban_fen"));
  GET(p.dy_rural, on.I("stats.disposable_income_per_capita_prev_year_rural_fen"));
  return Status::Ok();
}

// Referrals (REF-*): each kind's department and triggers, the low-income programmes, the
// employment and housing rules.
Status ResolveReferrals(const On& on, Params& p) {
  for (const char* kind : kReferralKinds) {
    Params::Referral ref;
    ref.kind = kind;
    std::string base = std::string("referral.") + kind;
    GET(ref.department, on.S(base + ".department"));
    GET(ref.label, on.S(base + ".department_label"));
    GET(auto triggers, on.L(base + ".triggers"));
    for (const auto& t : triggers)
      for (const auto& tn : kTriggers)
        if (t == tn.name) ref.triggers |= tn.bit;
    p.referrals.push_back(std::move(ref));
  }
  GET(auto low, on.L("referral.low_income_programs"));
  if (Contains(low, "dibao")) p.low_income_programs |= kDibao;
  if (Contains(low, "tekun")) p.low_income_programs |= kTekun;
  if (Contains(low, "marginal")) p.low_income_programs |= kMarginal;
  if (Contains(low, "expenditure_hardship")) p.low_income_programs |= kExpenditureHardship;
  if (Contains(low, "illness_poverty")) p.low_income_programs |= kIllnessPoverty;
  GET(p.work_age_min, on.I("referral.employment.working_age_min"));
  GET(p.work_age_max, on.I("referral.employment.working_age_max"));
  GET(p.zero_employment_priority, on.B("referral.employment.zero_employment_priority"));
  GET(p.housing_rural_measure, on.S("referral.housing.rural_measure"));
  GET(p.housing_urban_measure, on.S("referral.housing.urban_measure"));
  return Status::Ok();
}

#undef GET

}  // namespace

Result<Params> ResolveParams(const Pack& pack, const std::string& date) {
  Params p;
  p.county = pack.county();
  p.date = date;
  p.pack = &pack;
  const On on{pack, date};
  DOUDI_RETURN_IF_ERROR(ResolveDibaoAndIncome(on, p));
  DOUDI_RETURN_IF_ERROR(ResolveAssets(on, p));
  DOUDI_RETURN_IF_ERROR(ResolveSinglePersonAndTekun(on, p));
  DOUDI_RETURN_IF_ERROR(ResolveTemporary(on, p));
  DOUDI_RETURN_IF_ERROR(ResolveSupplementAndHardship(on, p));
  DOUDI_RETURN_IF_ERROR(ResolveReferrals(on, p));
  return p;
}

}  // namespace doudi::policy

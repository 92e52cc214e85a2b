#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "registry/registry.h"

namespace doudi::registry {

using nlohmann::json;

Result<PersonInput> PersonInputFromJson(const json& j, const std::string& path) {
  FieldReader r(j, path);
  PersonInput p;
  p.citizen_id = r.String("citizen_id", true);
  p.name = r.String("name", true);
  p.relation = r.String("relation", true);
  if (const json* d = r.Object("disability", false, true)) {
    FieldReader dr(*d, r.PathOf("disability"));
    Disability dis;
    dis.kind = dr.String("kind", true);
    dis.grade = static_cast<int>(dr.Int("grade", true));
    if (!dr.ok()) r.Fail(dr.status());
    p.disability = dis;
  }
  p.serious_illness = r.Bool("serious_illness", false);
  p.self_care = r.String("self_care", false, "full");
  p.in_school = r.Bool("in_school", false);
  p.employed = r.Bool("employed", false);
  p.has_supporter = r.Bool("has_supporter", false, true);
  if (const json* inc = r.Object("monthly_income_fen", false)) {
    FieldReader ir(*inc, r.PathOf("monthly_income_fen"));
    p.income.wage = ir.Fen("wage", false);
    p.income.business = ir.Fen("business", false);
    p.income.property = ir.Fen("property", false);
    p.income.transfer = ir.Fen("transfer", false);
    p.income.pension = ir.Fen("pension", false);
    p.income.other = ir.Fen("other", false);
    if (!ir.ok()) r.Fail(ir.status());
  }
  if (!r.ok()) return r.status();
  Status v = ValidatePerson(p);
  if (!v.ok()) return v.WithFieldPrefix(path);
  return p;
}

Result<HouseholdInput> HouseholdInputFromJson(const json& j, bool with_members) {
  FieldReader r(j, "");
  HouseholdInput h;
  h.village_code = r.String("village_code", true);
  h.area = r.String("area", true);
  h.residence_address = r.String("residence_address", false);
  h.phone = r.String("phone", false);
  if (const json* a = r.Object("assets", false)) {
    FieldReader ar(*a, "assets");
    h.deposits_fen = ar.Fen("deposits_fen", false);
    h.vehicles = ar.Int("vehicles", false);
    h.extra_properties = ar.Int("extra_properties", false);
    h.business = ar.Bool("business", false);
    if (!ar.ok()) r.Fail(ar.status());
  }
  if (const json* e = r.Object("annual_rigid_expenditure_fen", false)) {
    FieldReader er(*e, "annual_rigid_expenditure_fen");
    h.medical_expenditure_fen = er.Fen("medical", false);
    h.education_expenditure_fen = er.Fen("education", false);
    if (!er.ok()) r.Fail(er.status());
  }
  if (!r.ok()) return r.status();
  DOUDI_RETURN_IF_ERROR(ValidateHouseholdFields(h));
  if (with_members) {
    const json* members = r.Array("members", true);
    if (!r.ok()) return r.status();
    if (members->empty()) return Status::InvalidArgument("members", "至少登记一名家庭成员");
    if (members->size() > 30) return Status::InvalidArgument("members", "家庭成员不能超过30人");
    int heads = 0;
    for (size_t i = 0; i < members->size(); ++i) {
      std::string path = "members[" + std::to_string(i) + "]";
      DOUDI_ASSIGN_OR_RETURN(PersonInput p, PersonInputFromJson((*members)[i], path));
      if (p.relation == "head" && ++heads > 1)
        return Status::InvalidArgument(path + ".relation", "每户只能有一位户主");
      for (const auto& other : h.members)
        if (ParseCitizenId(other.citizen_id)->normalized == ParseCitizenId(p.citizen_id)->normalized)
          return Status::InvalidArgument(path + ".citizen_id", "同一家庭中身份证号重复");
      h.members.push_back(std::move(p));
    }
    if (heads == 0) return Status::InvalidArgument("members", "须指定一位户主（relation 为 head）");
  }
  return h;
}

json ToJson(const Person& p) {
  json dis = nullptr;
  if (p.disability) dis = {{"kind", p.disability->kind}, {"grade", p.disability->grade}};
  return {{"id", p.id},
          {"version", p.version},
          {"household_id", p.household_id},
          {"citizen_id", p.citizen_id},
          {"name", p.name},
          {"relation", p.relation},
          {"birth_date", p.birth_date},
          {"sex", p.sex},
          {"age", AgeOn(p.birth_date, TodayShanghai())},
          {"disability", dis},
          {"serious_illness", p.serious_illness},
          {"self_care", p.self_care},
          {"in_school", p.in_school},
          {"employed", p.employed},
          {"has_supporter", p.has_supporter},
          {"monthly_income_fen",
           {{"wage", p.income.wage},
            {"business", p.income.business},
            {"property", p.income.property},
            {"transfer", p.income.transfer},
            {"pension", p.income.pension},
            {"other", p.income.other}}}};
}

json ToJson(const Household& h) {
  json members = json::array();
  for (const auto& m : h.members) members.push_back(ToJson(m));
  return {{"id", h.id},
          {"version", h.version},
          {"village_code", h.village_code},
          {"village_name", h.village_name},
          {"town_code", h.town_code},
          {"town_name", h.town_name},
          {"county_code", h.county_code},
          {"area", h.area},
          {"residence_address", h.residence_address},
          {"phone", h.phone},
          {"assets",
           {{"deposits_fen", h.deposits_fen},
            {"vehicles", h.vehicles},
            {"extra_properties", h.extra_properties},
            {"business", h.business}}},
          {"annual_rigid_expenditure_fen",
           {{"medical", h.medical_expenditure_fen}, {"education", h.education_expenditure_fen}}},
          {"members", members},
          {"created_at", h.created_at},
          {"updated_at", h.updated_at}};
}

json ToJson(const HouseholdSummary& s) {
  return {{"id", s.id},
          {"version", s.version},
          {"village_code", s.village_code},
          {"village_name", s.village_name},
          {"town_name", s.town_name},
          {"area", s.area},
          {"head_name", s.head_name},
          {"head_citizen_id_masked", MaskCitizenId(s.head_citizen_id)},
          {"member_count", s.member_count},
          {"updated_at", s.updated_at}};
}

json ToJson(const Region& r) {
  json j = {{"code", r.code},
            {"parent_code", r.parent_code.empty() ? json(nullptr) : json(r.parent_code)},
            {"level", r.level},
            {"name", r.name},
            {"population", r.population},
            {"version", r.version}};
  if (!r.path.empty()) j["path"] = r.path;
  return j;
}

}  // namespace doudi::registry

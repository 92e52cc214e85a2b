// The registry's rows and checks: records from rows, the insert of a person, the id and
// village checks, the role checks and the audit entry (registry_internal.h); the public
// validation of person and household fields.
#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/registry_internal.h"

namespace doudi::registry {
namespace internal {


constexpr const char* kRelations[] = {"head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"};
constexpr const char* kDisabilityKinds[] = {"physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"};
constexpr const char* kSelfCare[] = {"full", "partial_loss", "full_loss"};

template <size_t N>
bool OneOf(const std::string& v, const char* const (&set)[N]) {
  return std::find_if(std::begin(set), std::end(set), [&](const char* s) { return v == s; }) != std::end(set);
}

// --- SQL, next to the code that uses it ---------------------------------------------------
constexpr const char* kPersonColumns =
    "id, version, household_id, citizen_id, name, relation, birth_date, sex, disability_kind, "
    "disability_grade, serious_illness, self_care, in_school, employed, has_supporter, income_wage_fen, "
    "income_business_fen, income_property_fen, income_transfer_fen, income_pension_fen, income_other_fen";
// The household and its members in one statement: one row per member (household columns
// repeated), member columns from index 18. Region names (columns 5, 6) come from RegionNames:
// fewer joins to plan, and PostgreSQL plans every execution (see postgres_backend.cc).
constexpr const char* kHouseholdSelect =
    "SELECT h.id, h.version, h.village_code, h.town_code, h.county_code, NULL, NULL, h.area, "
    "h.residence_address, h.phone, h.deposits_fen, h.vehicles, h.extra_properties, h.business, "
    "h.medical_expenditure_fen, h.education_expenditure_fen, h.created_at, h.updated_at, "
    "p.id, p.version, p.household_id, p.citizen_id, p.name, p.relation, p.birth_date, p.sex, p.disability_kind, "
    "p.disability_grade, p.serious_illness, p.self_care, p.in_school, p.employed, p.has_supporter, "
    "p.income_wage_fen, p.income_business_fen, p.income_property_fen, p.income_transfer_fen, p.income_pension_fen, "
    "p.income_other_fen "
    "FROM households h LEFT JOIN persons p ON p.household_id = h.id WHERE h.id = ? ORDER BY p.id";
constexpr size_t kHouseholdMemberColumn = 18;
// The region codes are copied from the household (kept in step by UpdateHousehold).
constexpr const char* kInsertPerson =
    "INSERT INTO persons (household_id, county_code, town_code, village_code, citizen_id, name, relation, "
    "birth_date, sex, disability_kind, disability_grade, serious_illness, self_care, in_school, employed, "
    "has_supporter, income_wage_fen, income_business_fen, income_property_fen, income_transfer_fen, "
    "income_pension_fen, income_other_fen, created_at, updated_at) "
    "SELECT h.id, h.county_code, h.town_code, h.village_code, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ? FROM households h WHERE h.id = ? RETURNING id";

// Person columns (kPersonColumns order) starting at column o.
Person PersonFromRow(const storage::Row& r, size_t o) {
  Person p;
  p.id = r.Int(o + 0);
  p.version = r.Int(o + 1);
  p.household_id = r.Int(o + 2);
  p.citizen_id = r.Text(o + 3);
  p.name = r.Text(o + 4);
  p.relation = r.Text(o + 5);
  p.birth_date = r.Text(o + 6);
  p.sex = r.Text(o + 7);
  if (!r.IsNull(o + 8)) p.disability = Disability{r.Text(o + 8), static_cast<int>(r.Int(o + 9))};
  p.serious_illness = r.Bool(o + 10);
  p.self_care = r.Text(o + 11);
  p.in_school = r.Bool(o + 12);
  p.employed = r.Bool(o + 13);
  p.has_supporter = r.Bool(o + 14);
  p.income = {r.Int(o + 15), r.Int(o + 16), r.Int(o + 17), r.Int(o + 18), r.Int(o + 19), r.Int(o + 20)};
  return p;
}

// Person columns after household_id in insert/update order.
Params PersonParams(const PersonInput& p, const CitizenIdInfo& id) {
  return {id.normalized,
          p.name,
          p.relation,
          id.birth_date,
          std::string(id.male ? "male" : "female"),
          p.disability ? storage::Value(p.disability->kind) : storage::Value(nullptr),
          p.disability ? storage::Value(int64_t{p.disability->grade}) : storage::Value(nullptr),
          int64_t{p.serious_illness},
          p.self_care,
          int64_t{p.in_school},
          int64_t{p.employed},
          int64_t{p.has_supporter},
          p.income.wage,
          p.income.business,
          p.income.property,
          p.income.transfer,
          p.income.pension,
          p.income.other};
}



// The household columns of kHouseholdSelect (0–17; names from the cache) into h.
Status HouseholdFromRow(Connection& conn, RegionNames& names, const storage::Row& r, Household& h) {
  h.id = r.Int(0);
  h.version = r.Int(1);
  h.village_code = r.Text(2);
  h.town_code = r.Text(3);
  h.county_code = r.Text(4);
  DOUDI_ASSIGN_OR_RETURN(h.village_name, names.Get(conn, h.village_code));
  DOUDI_ASSIGN_OR_RETURN(h.town_name, names.Get(conn, h.town_code));
  h.area = r.Text(7);
  h.residence_address = r.Text(8);
  h.phone = r.Text(9);
  h.deposits_fen = r.Int(10);
  h.vehicles = r.Int(11);
  h.extra_properties = r.Int(12);
  h.business = r.Bool(13);
  h.medical_expenditure_fen = r.Int(14);
  h.education_expenditure_fen = r.Int(15);
  h.created_at = r.Text(16);
  h.updated_at = r.Text(17);
  return Status::Ok();
}

Result<Household> LoadHousehold(Connection& conn, RegionNames& names, int64_t id, const std::string& scope) {
  auto rs = conn.Query(kHouseholdSelect, {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("家庭不存在");
  if (scope != kAnyRegion && !CodeWithin(rs->rows[0].Text(2), scope)) return Status::NotFound("家庭不存在");
  Household h;
  DOUDI_RETURN_IF_ERROR(HouseholdFromRow(conn, names, rs->rows[0], h));
  for (const auto& row : rs->rows)
    if (!row.IsNull(kHouseholdMemberColumn)) h.members.push_back(PersonFromRow(row, kHouseholdMemberColumn));
  return h;
}

// Looks up a village code: 400 when unknown or not a village, 404 when outside scope.
Result<std::string> CheckVillage(Connection& conn, RegionNames& names, const std::string& code,
                                 const std::string& scope) {
  DOUDI_ASSIGN_OR_RETURN(std::optional<RegionNames::Region> r, names.Find(conn, code));
  if (!r || r->level != "village") return Status::InvalidArgument("village_code", "村（社区）区划代码不存在");
  if (!CodeWithin(code, scope)) return Status::NotFound("该村（社区）不在您的管辖范围内");
  return r->parent_code;  // town code
}

// 409 when `normalized` is registered to a person other than `self` (issue 17 #7). Inside
// the actor's scope the answer names the household (the clerk can open it); outside it says
// nothing about the person, the household or the region. *collision gets the person either way.
Status CheckIdFree(Connection& conn, const std::string& normalized, int64_t self, const std::string& scope,
                   const std::string& field, RegistryService::IdCollision* collision) {
  auto rs = conn.Query("SELECT id, household_id, village_code FROM persons WHERE citizen_id = ?", {normalized});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || rs->rows[0].Int(0) == self) return Status::Ok();
  const auto& r = rs->rows[0];
  if (collision) *collision = {r.Int(0), r.Text(2)};
  if (CodeWithin(r.Text(2), scope))
    return Status::Conflict(field, "该身份证号已登记在您辖区的家庭（家庭编号 " + std::to_string(r.Int(1)) + "）");
  return Status::Conflict(field, "该身份证号已有登记，不能重复登记；请核对身份证号，或联系县级民政部门核实");
}

// Raced by a concurrent insert of the same id (the unique index answers): no one is named.
Status IdTakenMeanwhile(const std::string& field) {
  return Status::Conflict(field, "该身份证号已有登记，不能重复登记；请核对身份证号");
}

Result<int64_t> InsertPerson(Connection& conn, int64_t household_id, const PersonInput& p, const std::string& path,
                             const std::string& scope, RegistryService::IdCollision* collision) {
  auto id = ParseCitizenId(p.citizen_id);
  if (!id.ok()) return id.status().WithFieldPrefix(path.empty() ? "" : path);
  const std::string field = path.empty() ? "citizen_id" : path + ".citizen_id";
  DOUDI_RETURN_IF_ERROR(CheckIdFree(conn, id->normalized, 0, scope, field, collision));
  Params params = PersonParams(p, *id);
  std::string now = NowIsoShanghai();
  params.push_back(now);
  params.push_back(now);
  params.push_back(household_id);
  auto rs = conn.Query(kInsertPerson, params);
  if (!rs.ok()) {
    if (rs.status().code() == Code::kConflict) return IdTakenMeanwhile(field);
    return rs.status();
  }
  if (rs->empty()) return Status::NotFound("家庭不存在");
  return rs->rows[0].Int(0);
}

Status RequireWrite(const auth::User& actor) {
  return auth::CanWriteRegistry(actor.role) ? Status::Ok() : Status::PermissionDenied("您的角色无权修改户籍信息");
}
Status RequireRead(const auth::User& actor) {
  return auth::CanReadRegistry(actor.role) ? Status::Ok() : Status::PermissionDenied("您的角色无权查看户籍信息");
}

Result<Person> LoadPerson(Connection& conn, int64_t id, const std::string& scope, std::string* village) {
  auto rs = conn.Query(std::string("SELECT ") + kPersonColumns +
                           ", (SELECT village_code FROM households h WHERE h.id = persons.household_id)"
                           " FROM persons WHERE id = ?",
                       {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(21), scope)) return Status::NotFound("人员不存在");
  if (village) *village = rs->rows[0].Text(21);
  return PersonFromRow(rs->rows[0]);
}

Status Audit(Connection& conn, const auth::User& actor, const char* action, const char* entity, int64_t id,
             const std::string& region, const json& before, const json& after) {
  return audit::RecordWrite(conn, actor.actor(),
                            {action, entity, std::to_string(id), region, before.dump(), after.dump()});
}

}  // namespace internal

using namespace internal;

Status ValidatePerson(const PersonInput& p) {
  auto id = ParseCitizenId(p.citizen_id);
  if (!id.ok()) return id.status();
  if (p.name.empty() || p.name.size() > 60) return Status::InvalidArgument("name", "姓名不能为空且不超过20个汉字");
  if (!OneOf(p.relation, kRelations)) return Status::InvalidArgument("relation", "与户主关系无效");
  if (p.disability) {
    if (!OneOf(p.disability->kind, kDisabilityKinds)) return Status::InvalidArgument("disability.kind", "残疾类别无效");
    if (p.disability->grade < 1 || p.disability->grade > 4)
      return Status::InvalidArgument("disability.grade", "残疾等级应为1至4级");
  }
  if (!OneOf(p.self_care, kSelfCare)) return Status::InvalidArgument("self_care", "自理能力无效");
  return Status::Ok();
}

Status ValidateHouseholdFields(const HouseholdFields& h) {
  if (LevelOfCode(h.village_code) != RegionLevel::kVillage)
    return Status::InvalidArgument("village_code", "村（社区）区划代码应为12位数字");
  if (h.area != "urban" && h.area != "rural") return Status::InvalidArgument("area", "城乡类别应为 urban 或 rural");
  if (h.residence_address.size() > 300) return Status::InvalidArgument("residence_address", "居住地址过长");
  if (h.phone.size() > 20 || h.phone.find_first_not_of("0123456789-+ ") != std::string::npos)
    return Status::InvalidArgument("phone", "电话号码只能包含数字、空格、+ 和 -，且不超过20位");
  if (h.vehicles < 0 || h.vehicles > 100) return Status::InvalidArgument("assets.vehicles", "车辆数应在0到100之间");
  if (h.extra_properties < 0 || h.extra_properties > 100)
    return Status::InvalidArgument("assets.extra_properties", "房产数应在0到100之间");
  return Status::Ok();
}

}  // namespace doudi::registry

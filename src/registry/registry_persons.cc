// Persons: read, add to a household, update, remove.
#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/registry_internal.h"
#include "storage/idempotency.h"

namespace doudi::registry {

using namespace internal;

Result<Person> RegistryService::GetPerson(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  std::string village;
  Person p;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(p, LoadPerson(*conn, id, actor.region_code, &village));
  }
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "person", std::to_string(id), village));
  return p;
}

Result<Person> RegistryService::AddMember(const auth::User& actor, int64_t household_id, const PersonInput& in) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  IdCollision collision;
  auto out = [&]() -> Result<Person> {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key (issue 17)
    DOUDI_ASSIGN_OR_RETURN(Household h, LoadHousehold(*conn, caches_->region_names, household_id, actor.region_code));
    if (in.relation == "head") return Status::InvalidArgument("relation", "该家庭已有户主");
    DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertPerson(*conn, household_id, in, "", actor.region_code, &collision));
    DOUDI_ASSIGN_OR_RETURN(Person p, LoadPerson(*conn, id, actor.region_code, nullptr));
    DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.create", "person", id, h.village_code, nullptr, ToJson(p)));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    return p;
  }();
  DOUDI_RETURN_IF_ERROR(LogCollision(actor, collision));
  return out;
}

Result<Person> RegistryService::UpdatePerson(const auth::User& actor, int64_t id, const PersonInput& in,
                                             int64_t version) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  IdCollision collision;
  auto out = UpdatePersonTx(actor, id, in, version, &collision);
  DOUDI_RETURN_IF_ERROR(LogCollision(actor, collision));
  return out;
}

Result<Person> RegistryService::UpdatePersonTx(const auth::User& actor, int64_t id, const PersonInput& in,
                                               int64_t version, IdCollision* collision) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::string village;
  DOUDI_ASSIGN_OR_RETURN(Person before, LoadPerson(*conn, id, actor.region_code, &village));
  if ((before.relation == "head") != (in.relation == "head"))
    return Status::InvalidArgument("relation", before.relation == "head" ? "户主的关系不能修改，请先变更户主"
                                                                         : "该家庭已有户主");
  auto cid = ParseCitizenId(in.citizen_id);
  if (!cid.ok()) return cid.status();
  DOUDI_RETURN_IF_ERROR(CheckIdFree(*conn, cid->normalized, id, actor.region_code, "citizen_id", collision));
  Params params = PersonParams(in, *cid);
  params.push_back(NowIsoShanghai());
  params.push_back(id);
  params.push_back(version);
  auto n = conn->Execute(
      "UPDATE persons SET citizen_id = ?, name = ?, relation = ?, birth_date = ?, sex = ?, disability_kind = ?, "
      "disability_grade = ?, serious_illness = ?, self_care = ?, in_school = ?, employed = ?, has_supporter = ?, "
      "income_wage_fen = ?, income_business_fen = ?, income_property_fen = ?, income_transfer_fen = ?, "
      "income_pension_fen = ?, income_other_fen = ?, updated_at = ?, version = version + 1 "
      "WHERE id = ? AND version = ?",
      params);
  if (!n.ok()) {
    if (n.status().code() == Code::kConflict) return IdTakenMeanwhile("citizen_id");
    return n.status();
  }
  if (*n == 0) return Status::VersionConflict();
  DOUDI_ASSIGN_OR_RETURN(Person after, LoadPerson(*conn, id, actor.region_code, nullptr));
  DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.update", "person", id, village, ToJson(before), ToJson(after)));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

Status RegistryService::RemovePerson(const auth::User& actor, int64_t id, int64_t version) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::string village;
  DOUDI_ASSIGN_OR_RETURN(Person before, LoadPerson(*conn, id, actor.region_code, &village));
  if (before.relation == "head") return Status::FailedPrecondition("不能删除户主", "relation");
  auto n = conn->Execute("DELETE FROM persons WHERE id = ? AND version = ?", {id, version});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::VersionConflict();
  DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.delete", "person", id, village, ToJson(before), nullptr));
  return tx.Commit();
}

}  // namespace doudi::registry

#include "credit/credit.h"

#include "audit/audit_log.h"
#include "auth/roles.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "registry/list_read.h"
#include "storage/idempotency.h"

namespace doudi::credit {

using nlohmann::json;
using storage::Connection;

Result<bool> OnList(Connection& conn, const std::string& county, const std::vector<std::string>& ids,
                    const std::string& list) {
  for (const auto& id : ids) {
    auto rs = conn.Query(std::string("SELECT 1 FROM credit_entries WHERE county_code = ? AND citizen_id = ? AND list = ?") +
                             (list == "dishonesty" ? " AND repaid_at IS NULL" : ""),
                         {county, id, list});
    if (!rs.ok()) return rs.status();
    if (!rs->empty()) return true;
  }
  return false;
}

Result<bool> IsStaffRelative(Connection& conn, const std::string& county, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto rs = conn.Query("SELECT 1 FROM staff_relatives WHERE county_code = ? AND citizen_id = ?", {county, id});
    if (!rs.ok()) return rs.status();
    if (!rs->empty()) return true;
  }
  return false;
}

namespace {
Status RequireCounty(const auth::User& actor) {
  return auth::RoleIn(actor.role, auth::kCountyRoles) ? Status::Ok() : Status::PermissionDenied("只有县级民政人员可以维护该名单");
}
}  // namespace

// A page of one of the county's lists (newest first), each row made into JSON, read-logged.
Result<json> CreditService::CountyPage(const auth::User& actor, Page page, const char* table, const char* columns,
                                       const char* entity, json (*make)(const storage::Row&)) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  const std::string from = std::string(" FROM ") + table + " WHERE county_code = ?";
  DOUDI_ASSIGN_OR_RETURN(auto rows, registry::QueryPage(*conn, "SELECT COUNT(*)" + from,
                                                        std::string("SELECT ") + columns + from + " ORDER BY id DESC",
                                                        {actor.region_code.substr(0, 6)}, page));
  json items = json::array();
  for (const auto& r : rows.rows.rows) items.push_back(make(r));
  return registry::LoggedPage(std::move(conn), registry_, actor, entity, std::move(items), rows.total, page);
}

Result<json> CreditService::ListCredit(const auth::User& actor, Page page) {
  return CountyPage(actor, page, "credit_entries", "id, citizen_id, name, list, reason, owed_fen, repaid_at, created_at",
                    "credit_list", [](const storage::Row& r) -> json {
                      return {{"id", r.Int(0)},          {"citizen_id", r.Text(1)}, {"name", r.Text(2)},
                              {"list", r.Text(3)},       {"reason", r.Text(4)},     {"owed_fen", r.Int(5)},
                              {"repaid_at", r.IsNull(6) ? json(nullptr) : json(r.Text(6))},
                              {"created_at", r.Text(7)}};
                    });
}

Result<json> CreditService::AddCredit(const auth::User& actor, const json& body) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  FieldReader r(body, "");
  std::string cid = r.String("citizen_id", true);
  std::string name = r.String("name", true);
  std::string list = r.String("list", true);
  std::string reason = r.String("reason", true);
  int64_t owed = r.Fen("owed_fen", false);
  if (!r.ok()) return r.status();
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (list != "trust" && list != "dishonesty") return Status::InvalidArgument("list", "名单应为 trust 或 dishonesty");
  if (name.size() > 60 || reason.size() > 1000) return Status::InvalidArgument("reason", "内容过长");
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto ins = conn->Query(
      "INSERT INTO credit_entries (county_code, citizen_id, name, list, reason, owed_fen, created_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {county, id->normalized, name, list, reason, owed, actor.username, NowIsoShanghai()});
  if (!ins.ok()) return ins.status();
  json out = {{"id", ins->rows[0].Int(0)}, {"citizen_id", id->normalized}, {"name", name}, {"list", list},
              {"reason", reason}, {"owed_fen", owed}, {"repaid_at", nullptr}};
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"credit.add", "credit_entry", ins->rows[0].Text(0), county, "null", out.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<json> CreditService::Repay(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::string now = NowIsoShanghai();
  auto upd = conn->Execute(
      "UPDATE credit_entries SET repaid_at = ? WHERE id = ? AND county_code = ? AND list = 'dishonesty' AND repaid_at IS NULL",
      {now, id, county});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::NotFound("没有待退还的失信记录");
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"credit.repay", "credit_entry", std::to_string(id), county, "null",
                                            json{{"repaid_at", now}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return json{{"id", id}, {"repaid_at", now}};
}

Result<json> CreditService::ListRelatives(const auth::User& actor, Page page) {
  return CountyPage(actor, page, "staff_relatives", "id, citizen_id, name, staff_name, relation, created_at",
                    "staff_relative_list", [](const storage::Row& r) -> json {
                      return {{"id", r.Int(0)},         {"citizen_id", r.Text(1)}, {"name", r.Text(2)},
                              {"staff_name", r.Text(3)}, {"relation", r.Text(4)},   {"created_at", r.Text(5)}};
                    });
}

Result<json> CreditService::AddRelative(const auth::User& actor, const json& body) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  FieldReader r(body, "");
  std::string cid = r.String("citizen_id", true);
  std::string name = r.String("name", true);
  std::string staff = r.String("staff_name", true);
  std::string relation = r.String("relation", true);
  if (!r.ok()) return r.status();
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (name.size() > 60 || staff.size() > 60 || relation.size() > 60) return Status::InvalidArgument("relation", "内容过长");
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto ins = conn->Query(
      "INSERT INTO staff_relatives (county_code, citizen_id, name, staff_name, relation, created_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {county, id->normalized, name, staff, relation, actor.username, NowIsoShanghai()});
  if (!ins.ok()) return ins.status();
  // Applications still open for this person's household are handled as staff-relative cases
  // from now on (county visit and county decision), not only those created after the record.
  auto flagged = conn->Execute(
      "UPDATE applications SET staff_relative = 1, version = version + 1 WHERE county_code = ? AND staff_relative = 0 "
      "AND state NOT IN ('enrolled', 'refused', 'withdrawn') AND (applicant_citizen_id = ? OR household_id IN "
      "(SELECT household_id FROM persons WHERE citizen_id = ?))",
      {county, id->normalized, id->normalized});
  if (!flagged.ok()) return flagged.status();
  json out = {{"id", ins->rows[0].Int(0)}, {"citizen_id", id->normalized}, {"name", name}, {"staff_name", staff},
              {"relation", relation}};
  out["applications_flagged"] = *flagged;
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
      *conn, actor.actor(), {"staff_relative.add", "staff_relative", ins->rows[0].Text(0), county, "null", out.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace doudi::credit

#include "applications/verification_requests.h"

#include "audit/audit_log.h"
#include "auth/roles.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "registry/list_read.h"

namespace doudi::applications {

using nlohmann::json;

Result<json> VerificationRequestService::List(const auth::User& actor, Page page, const std::string& direction) {
  if (!auth::RoleIn(actor.role, auth::kCountyRoles | auth::kTownRoles)) return Status::PermissionDenied();
  if (!direction.empty() && direction != "incoming" && direction != "outgoing")
    return Status::InvalidArgument("direction", "方向应为 incoming 或 outgoing");
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string county = actor.region_code.substr(0, 6);
  const bool town = LevelOfCode(actor.region_code) == RegionLevel::kTown;
  // Requests this county sent (a town sees those of its own applications) and, for county
  // staff, those it received to answer.
  std::string outgoing = town ? "(v.from_county = ? AND a.town_code = ?)" : "v.from_county = ?";
  storage::Params params;
  std::string where;
  if (direction != "incoming") {
    where = outgoing;
    params.push_back(county);
    if (town) params.push_back(actor.region_code);
  }
  if (direction != "outgoing" && !town) {
    where += std::string(where.empty() ? "" : " OR ") + "v.to_county = ?";
    params.push_back(county);
  }
  if (where.empty()) return PageJson(json::array(), 0, page);
  const std::string from = " FROM verification_requests v JOIN applications a ON a.id = v.application_id WHERE (" + where + ")";
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto page_rows, registry::QueryPage(*conn, "SELECT COUNT(*)" + from,
      "SELECT v.id, v.application_id, v.from_county, v.to_county, v.citizen_id, v.applicant_name, v.status, v.answer, "
      "v.created_at, v.answered_at, v.subject, a.case_no" + from + " ORDER BY v.id DESC", params, page));
  json items = json::array();
  for (const auto& r : page_rows.rows.rows)
    items.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"from_county", r.Text(2)}, {"to_county", r.Text(3)},
                     {"direction", r.Text(3) == county ? "incoming" : "outgoing"},
                     {"citizen_id", r.Text(4)}, {"applicant_name", r.Text(5)}, {"status", r.Text(6)},
                     {"answer", r.Text(7)}, {"created_at", r.Text(8)}, {"answered_at", r.Text(9)},
                     {"subject", r.Text(10)}, {"case_no", r.Text(11)}});
  return registry::LoggedPage(std::move(conn), registry_, actor, "verification_request_list", std::move(items), page_rows.total, page);
}

Result<json> VerificationRequestService::Answer(const auth::User& actor, int64_t id, const json& body) {
  if (!auth::RoleIn(actor.role, auth::kCountyRoles)) return Status::PermissionDenied("只有户籍地县级民政部门可以答复协查");
  FieldReader r(body, "");
  std::string answer = r.String("answer", true);
  if (!r.ok()) return r.status();
  if (answer.size() > 4000) return Status::InvalidArgument("answer", "内容过长");
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto upd = conn->Execute(
      "UPDATE verification_requests SET status = 'answered', answer = ?, answered_by = ?, answered_at = ? "
      "WHERE id = ? AND to_county = ? AND status = 'open'",
      {answer, actor.username, NowIsoShanghai(), id, county});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::NotFound("没有待答复的协查请求");
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"verification_request.answer", "verification_request", std::to_string(id),
                                            county, "null", json{{"answer", answer}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return json{{"id", id}, {"status", "answered"}, {"answer", answer}};
}

}  // namespace doudi::applications

// Reads of a case: the document (with the actions the user may take), the timeline, the
// household file (一户一案) and a notice. Every read of personal data is logged.
#include "applications/applications.h"
#include "applications/transitions.h"
#include "audit/audit_log.h"
#include "calendar/service.h"
#include "common/citizen_id.h"
#include "common/lists.h"

namespace doudi::applications {
namespace {

using nlohmann::json;
using storage::Connection;

// The rows of one of an application's lists (objections, notices, …), each made into JSON.
Result<json> ListOf(Connection& conn, const std::string& sql, int64_t application_id,
                    const std::function<json(const storage::Row&)>& make) {
  DOUDI_ASSIGN_OR_RETURN(auto rs, conn.Query(sql, {application_id}));
  json items = json::array();
  for (const auto& r : rs.rows) items.push_back(make(r));
  return items;
}

// The lists of a case's document: objections, notices, enrollments, referrals, attachments and
// cross-region verification requests.
Status AddCaseLists(Connection& conn, int64_t id, json& out) {
  DOUDI_ASSIGN_OR_RETURN(
      out["objections"],
      ListOf(conn,
             "SELECT id, content, by_name, recorded_by, recorded_at, answer, answered_by, answered_at FROM objections "
             "WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"content", r.Text(1)}, {"by", r.Text(2)}, {"recorded_by", r.Text(3)},
                       {"recorded_at", r.Text(4)}, {"answer", r.IsNull(5) ? json(nullptr) : json(r.Text(5))},
                       {"answered_by", r.Text(6)}, {"answered_at", r.Text(7)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["notices"],
      ListOf(conn, "SELECT id, kind, created_at, sha256 FROM notices WHERE application_id = ? ORDER BY id", id,
             [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"kind", r.Text(1)}, {"created_at", r.Text(2)}, {"sha256", r.Text(3)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["enrollments"],
      ListOf(conn,
             "SELECT id, program, covered, monthly_fen, one_off_fen, first_paid_month, status, next_review_date "
             "FROM enrollments WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"program", r.Text(1)}, {"covered", ParseJsonOr(r.Text(2), json::array())},
                       {"monthly_fen", r.Int(3)}, {"one_off_fen", r.Int(4)}, {"first_paid_month", r.Text(5)},
                       {"status", r.Text(6)}, {"next_review_date", r.Text(7)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["referrals"],
      ListOf(conn,
             "SELECT id, kind, department, department_label, status, due_date FROM referrals WHERE application_id = ? "
             "ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)},     {"kind", r.Text(1)},   {"department", r.Text(2)},
                       {"department_label", r.Text(3)}, {"status", r.Text(4)}, {"due_date", r.Text(5)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["attachments"],
      ListOf(conn,
             "SELECT id, kind, filename, content_type, size_bytes, uploaded_by, uploaded_at FROM attachments "
             "WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)},          {"kind", r.Text(1)},        {"filename", r.Text(2)},
                       {"content_type", r.Text(3)}, {"size_bytes", r.Int(4)}, {"uploaded_by", r.Text(5)},
                       {"uploaded_at", r.Text(6)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["verification_requests"],
      ListOf(conn,
             "SELECT id, to_county, status, answer, answered_at FROM verification_requests WHERE application_id = ? "
             "ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"to_county", r.Text(1)}, {"status", r.Text(2)}, {"answer", r.Text(3)},
                       {"answered_at", r.Text(4)}};
             }));
  return Status::Ok();
}

}  // namespace

Result<json> ApplicationService::Get(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, id, actor.region_code));
  DOUDI_ASSIGN_OR_RETURN(auto cal, calendar::ForCounty(*conn, a.county));
  json out = AppSummary(a, *cal);
  out["applicant_citizen_id"] = a.applicant_id;
  out["applicant_phone"] = a.applicant_phone;
  out["description"] = a.description;
  out["visit"] = ParseJsonOr(a.visit, nullptr);
  out["visits"] = a.visit.empty() ? json::array() : json::array({ParseJsonOr(a.visit, nullptr)});
  out["verification"] = ParseJsonOr(a.verification, nullptr);
  out["determinations"] = ParseJsonOr(a.determinations, nullptr);
  out["town_opinion"] = ParseJsonOr(a.town_opinion, nullptr);
  out["notice_starts"] = a.notice_starts.empty() ? json(nullptr) : json(a.notice_starts);
  out["decision_note"] = a.decision_note;
  DOUDI_RETURN_IF_ERROR(AddCaseLists(*conn, id, out));
  { storage::Lease back = std::move(conn); }  // to the pool before the household's read and the read log's commit
  if (a.household_id) {
    auto h = registry_.GetHousehold(actor, a.household_id);
    out["household"] = h.ok() ? registry::ToJson(*h) : json(nullptr);
  } else {
    out["household"] = nullptr;
  }
  out["allowed_actions"] = AllowedActions(actor, a);
  // The record holds the applicant's citizen id, phone and incomes: its reads are logged.
  DOUDI_RETURN_IF_ERROR(registry_.LogRead(actor, "application", std::to_string(a.id), a.village));
  return out;
}

// The document of an application this request has just committed: a failure to read it back
// (the database gone, the read log not written) must not look like a failed write the user
// would repeat (a second application, or the next step taken twice). The writes call it
// inside a synchronous DeferCommits scope: the read log's outcome is known here, not
// deferred to the server's answer (where a failure would read as the write's), and a read
// logged before the write that fails stops the write.
Result<json> ApplicationService::GetAfterWrite(const auth::User& actor, int64_t id) {
  auto doc = Get(actor, id);
  if (doc.ok()) return doc;
  return Status::CommittedUnread("application " + std::to_string(id) + " committed, read back failed: " +
                                 doc.status().detail());
}

namespace {
// The line a person reads in the timeline: the reason, opinion, findings or content an action
// recorded (the whole record stays in `details`).
std::string TimelineNote(const json& d) {
  auto text = [](const json& o, const char* key) -> std::string {
    return o.is_object() && o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
  };
  for (const char* key : {"note", "reason", "reasons", "opinion", "content", "answer"})
    if (auto t = text(d, key); !t.empty()) return t;
  if (d.contains("opinion") && d["opinion"].is_object()) {  // the town's opinion: recommendation and text
    const json& op = d["opinion"];
    std::string s = op.value("recommend", "") == "approve" ? "建议批准" : "建议不予批准";
    if (op.value("escalate", false)) s += "（报县级审批）";
    if (auto t = text(op, "opinion"); !t.empty()) s += "：" + t;
    return s;
  }
  for (const char* key : {"visit", "verification"})
    if (d.contains(key))
      if (auto t = text(d[key], "findings"); !t.empty()) return t;
  if (d.contains("missing_items") && d["missing_items"].is_array() && !d["missing_items"].empty()) {
    std::string s = "需补充：";
    for (size_t i = 0; i < d["missing_items"].size(); ++i)
      if (d["missing_items"][i].is_string()) s += (i ? "、" : "") + d["missing_items"][i].get<std::string>();
    return s;
  }
  if (d.contains("working_days") && d["working_days"].is_number_integer())
    return "办理时限 " + std::to_string(d["working_days"].get<int64_t>()) + " 个工作日，截止 " + text(d, "due_date");
  if (auto t = text(d, "first_paid_month"); !t.empty()) return "自 " + t + " 起发放";
  if (auto t = text(d, "notice_ends"); !t.empty()) return "公示至 " + t;
  return {};
}

}  // namespace

Result<json> ApplicationService::Timeline(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));  // as Get
  App a;
  storage::ResultSet rs;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(a, LoadApp(*conn, id, actor.region_code));
    DOUDI_ASSIGN_OR_RETURN(
        rs, conn->Query("SELECT id, at, actor, after_json FROM audit_log WHERE entity = 'application' AND entity_id = ? "
                        "ORDER BY id",
                        {std::to_string(a.id)}));
  }  // the connection goes back before waiting for the read log's commit
  DOUDI_RETURN_IF_ERROR(registry_.LogRead(actor, "application", std::to_string(a.id), a.village));
  json items = json::array();
  for (const auto& r : rs.rows) {
    json after = ParseJsonOr(r.Text(3), json::object());
    items.push_back({{"id", r.Int(0)},
                     {"at", r.Text(1)},
                     {"actor", r.Text(2)},
                     {"action", after.value("action", "")},
                     {"from", after.value("from", "")},
                     {"to", after.value("to", "")},
                     {"note", TimelineNote(after)},
                     {"details", after}});
  }
  return json{{"items", items}};
}

Result<json> ApplicationService::HouseholdFile(const auth::User& actor, int64_t household_id) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, household_id));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto cal, calendar::ForCounty(*conn, h.county_code));
  auto apps = conn->Query(SelectApps() + " WHERE a.household_id = ? ORDER BY a.id DESC",
                          {household_id});
  if (!apps.ok()) return apps.status();
  json applications = json::array(), notices = json::array(), visits = json::array(), determinations = json::array();
  for (const auto& row : apps->rows) {
    App a = AppFromRow(row);
    applications.push_back(AppSummary(a, *cal));
    if (!a.visit.empty()) visits.push_back({{"application_id", a.id}, {"case_no", a.case_no}, {"visit", ParseJsonOr(a.visit, nullptr)}});
    if (!a.determinations.empty()) {
      json d = ParseJsonOr(a.determinations, nullptr);
      if (d.is_object())
        determinations.push_back({{"application_id", a.id}, {"case_no", a.case_no}, {"date", d.value("date", "")},
                                  {"dibao", d["dibao"].value("eligible", false)},
                                  {"dibao_monthly_fen", d["dibao"].value("monthly_fen", int64_t{0})},
                                  {"tekun", d["tekun"].value("eligible", false)},
                                  {"marginal", d["marginal"].value("eligible", false)},
                                  {"temporary_fen", d["temporary"].value("amount_fen", int64_t{0})}});
    }
  }
  auto ns = conn->Query(
      "SELECT n.id, n.kind, n.created_at, n.application_id, a.case_no FROM notices n "
      "LEFT JOIN applications a ON a.id = n.application_id LEFT JOIN enrollments e ON e.id = n.enrollment_id "
      "WHERE a.household_id = ? OR (n.application_id IS NULL AND e.household_id = ?) ORDER BY n.id DESC",
      {household_id, household_id});
  if (!ns.ok()) return ns.status();
  // A notice of an enrollment not decided in doudi has no case: application_id and case_no null.
  for (const auto& r : ns->rows)
    notices.push_back({{"id", r.Int(0)}, {"kind", r.Text(1)}, {"created_at", r.Text(2)},
                       {"application_id", r.IsNull(3) ? json(nullptr) : json(r.Int(3))},
                       {"case_no", r.IsNull(4) ? json(nullptr) : json(r.Text(4))}});
  auto es = conn->Query(
      "SELECT id, application_id, program, covered, monthly_fen, one_off_fen, first_paid_month, status, next_review_date, "
      "ends_on, status_reason, version FROM enrollments WHERE household_id = ? ORDER BY id DESC",
      {household_id});
  if (!es.ok()) return es.status();
  json enrollments = json::array();
  for (const auto& r : es->rows)
    enrollments.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"program", r.Text(2)},
                           {"covered", ParseJsonOr(r.Text(3), json::array())}, {"monthly_fen", r.Int(4)},
                           {"one_off_fen", r.Int(5)}, {"first_paid_month", r.Text(6)}, {"status", r.Text(7)},
                           {"next_review_date", r.Text(8)}, {"ends_on", r.IsNull(9) ? json(nullptr) : json(r.Text(9))},
                           {"status_reason", r.Text(10)}, {"version", r.Int(11)}});
  return json{{"household_id", household_id}, {"applications", applications}, {"notices", notices},
              {"visits", visits}, {"determinations", determinations}, {"enrollments", enrollments}};
}

Result<json> ApplicationService::GetNotice(const auth::User& actor, int64_t id) {
  // A notice is part of its case: the case's access rule (as Get), then the case's scope.
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query("SELECT id, kind, application_id, created_at, sha256, html, village_code FROM notices WHERE id = ?",
                        {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(6), actor.region_code)) return Status::NotFound("告知书不存在");
  const auto& r = rs->rows[0];
  if (!r.IsNull(2)) {
    auto app = LoadApp(*conn, r.Int(2), actor.region_code);
    if (!app.ok()) return app.status().code() == Code::kNotFound ? Status::NotFound("告知书不存在") : app.status();
  }
  DOUDI_RETURN_IF_ERROR(audit::RecordRead(*conn, actor.actor(), "notice", r.Text(0), r.Text(6)));
  return json{{"id", r.Int(0)}, {"kind", r.Text(1)}, {"application_id", r.IsNull(2) ? json(nullptr) : json(r.Int(2))},
              {"created_at", r.Text(3)},
              {"sha256", r.Text(4)}, {"html", r.Text(5)}};
}


}  // namespace doudi::applications

// The alerts a run raised: their list, the actions that close the loop (verify, resolve, a
// village assistant's proposal confirmed or rejected above), the rectification report by town;
// and the county's runs and imported feeds.
#include <map>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "monitoring/monitor.h"

namespace doudi::monitoring {
namespace {

using nlohmann::json;

// An action on an alert as the request names it.
struct AlertAction {
  std::string action;  // verify | resolve | confirm | reject
  int64_t version = 0;
  std::string note;
  bool confirmed = false;
};

Result<AlertAction> ParseAlertAction(const json& body) {
  FieldReader r(body, "");
  AlertAction a;
  a.action = r.String("action", true);
  a.version = r.Int("version", true);
  a.note = r.String("note", false);
  a.confirmed = r.Bool("confirmed", false);
  if (!r.ok()) return r.status();
  if (a.note.size() > 4000) return Status::InvalidArgument("note", "内容过长");
  return a;
}

// The alert as stored, when it is in the actor's scope and at the version the action saw.
struct AlertRow {
  std::string indicator, category, status, village, proposal;
  int64_t household_id = 0;
};

Result<AlertRow> LoadAlert(storage::Database& db, const auth::User& actor, int64_t id, int64_t version) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  auto rs = conn->Query(
      "SELECT indicator, category, status, household_id, village_code, version, resolution FROM alerts WHERE id = ?",
      {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(4), actor.region_code)) return Status::NotFound("预警不存在");
  const auto& r = rs->rows[0];
  AlertRow row{r.Text(0), r.Text(1), r.Text(2), r.Text(4), r.Text(6), r.Int(3)};
  if (r.Int(5) != version) return Status::VersionConflict();
  return row;
}

// The status an action leads to: new → verifying → resolved; a village assistant's confirmed
// wrong payment → proposed, which a town or county role confirms (resolved) or rejects
// (verifying).
Result<std::string> NextStatus(const std::string& action, const AlertRow& row, bool village_actor, bool confirmed) {
  const bool still_open = row.status != "resolved" && row.status != "proposed";
  if (action == "verify" && row.status == "new") return std::string("verifying");
  if (action == "resolve" && still_open)
    return std::string(village_actor && confirmed && row.category != "missing" ? "proposed" : "resolved");
  if (action == "confirm" && row.status == "proposed") return std::string("resolved");
  if (action == "reject" && row.status == "proposed") return std::string("verifying");
  if (action != "verify" && action != "resolve" && action != "confirm" && action != "reject")
    return Status::InvalidArgument("action", "操作应为 verify、resolve、confirm 或 reject");
  return Status(Code::kConflict, "invalid_transition", "预警当前状态不能执行该操作", "action");
}

// A confirmed wrong payment suspends the household's dibao and tekun pending termination or
// recovery. Returns how many enrollments it suspended.
Result<int64_t> SuspendPayments(storage::Connection& conn, int64_t household_id, const std::string& note,
                                const std::string& now) {
  auto s = conn.Execute(
      "UPDATE enrollments SET status = 'suspended', status_reason = ?, updated_at = ?, version = version + 1 "
      "WHERE household_id = ? AND status = 'active' AND program IN ('dibao', 'tekun')",
      {"动态监测预警核实：" + note, now, household_id});
  if (!s.ok()) return s.status();
  return *s;
}

// The alert's own writes (its new status, a suspension, the audit entry); *after is the
// outcome. With a confirmed need they run inside the transaction that starts its application.
Status WriteOutcome(storage::Connection& conn, const auth::User& actor, int64_t id, const AlertAction& a,
                    const AlertRow& row, const std::string& to, std::optional<int64_t> application_id, json* after) {
  std::string now = NowIsoShanghai();
  const bool proposing = to == "proposed";
  auto upd = conn.Execute(
      "UPDATE alerts SET status = ?, resolution = ?, confirmed = ?, application_id = ?, proposed_by = ?, "
      "proposed_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
      {to, a.note,
       to == "resolved" || proposing ? storage::Value(int64_t{a.confirmed}) : storage::Value(nullptr),
       application_id ? storage::Value(*application_id) : storage::Value(nullptr),
       proposing ? storage::Value(actor.username) : storage::Value(nullptr),
       proposing ? storage::Value(now) : storage::Value(nullptr), now, id, a.version});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::VersionConflict();
  int64_t suspended = 0;
  if (to == "resolved" && a.confirmed && row.category != "missing" && row.household_id) {
    DOUDI_ASSIGN_OR_RETURN(suspended, SuspendPayments(conn, row.household_id, a.note, now));
  }
  *after = {{"status", to}, {"confirmed", a.confirmed}, {"note", a.note}, {"suspended_enrollments", suspended},
            {"application_id", application_id ? json(*application_id) : json(nullptr)}};
  if (proposing) (*after)["proposed_by"] = actor.username;
  return audit::RecordWrite(conn, actor.actor(),
                            {"alert." + a.action, "alert", std::to_string(id), row.village,
                             json{{"status", row.status}}.dump(), after->dump()});
}

// A page of a county's runs or imported feeds, newest first: `columns` of `table`, each row
// rendered by `item`.
Result<json> CountyPage(storage::Database& db, const std::string& table, const std::string& columns,
                        const std::string& county, int64_t page, int64_t page_size,
                        const std::function<json(const storage::Row&)>& item) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM " + table + " WHERE county_code = ?", {county});
  if (!count.ok()) return count.status();
  auto rs = conn->Query("SELECT " + columns + " FROM " + table + " WHERE county_code = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                        {county, page_size, (page - 1) * page_size});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) items.push_back(item(r));
  return json{{"items", items}, {"total", count->rows[0].Int(0)}, {"page", page}, {"page_size", page_size}};
}

}  // namespace

Result<json> MonitorService::ListAlerts(const auth::User& actor, const std::string& status, const std::string& indicator,
                                        int64_t page, int64_t page_size) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  std::string where = std::string(" WHERE a.") + ScopeColumn(actor.region_code) + " = ?";
  storage::Params params{actor.region_code};
  if (status == "open") {
    where += " AND a.status <> 'resolved'";
  } else if (!status.empty()) {
    where += " AND a.status = ?";
    params.push_back(status);
  }
  if (!indicator.empty()) {
    where += " AND a.indicator = ?";
    params.push_back(indicator);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM alerts a" + where, params);
  if (!count.ok()) return count.status();
  params.push_back(page_size);
  params.push_back((page - 1) * page_size);
  auto rs = conn->Query(
      "SELECT a.id, a.version, a.indicator, a.category, a.severity, a.citizen_id, a.person_name, a.household_id, "
      "a.village_code, v.name, a.month, a.details, a.status, a.due_date, a.resolution, a.confirmed, a.application_id, "
      "a.created_at, a.proposed_by, a.proposed_at FROM alerts a JOIN regions v ON v.code = a.village_code" +
          where + " ORDER BY CASE WHEN a.status = 'resolved' THEN 1 ELSE 0 END, a.due_date, a.id LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  std::string today = TodayShanghai();
  json items = json::array();
  for (const auto& r : rs->rows) {
    const Indicator* ind = FindIndicator(r.Text(2));
    items.push_back({{"id", r.Int(0)}, {"version", r.Int(1)}, {"indicator", r.Text(2)},
                     {"description", ind ? ind->description : ""}, {"cite", ind ? ind->cite : ""},
                     {"category", r.Text(3)}, {"severity", r.Text(4)}, {"citizen_id_masked", MaskCitizenId(r.Text(5))},
                     {"person_name", r.Text(6)}, {"household_id", r.Int(7)}, {"village_code", r.Text(8)},
                     {"village_name", r.Text(9)}, {"month", r.Text(10)},
                     {"details", json::parse(r.Text(11), nullptr, false)}, {"status", r.Text(12)},
                     {"due_date", r.Text(13)}, {"overdue", r.Text(12) != "resolved" && today > r.Text(13)},
                     {"resolution", r.Text(14)}, {"confirmed", r.IsNull(15) ? json(nullptr) : json(r.Bool(15))},
                     {"application_id", r.IsNull(16) ? json(nullptr) : json(r.Int(16))}, {"created_at", r.Text(17)},
                     {"proposed_by", r.IsNull(18) ? json(nullptr) : json(r.Text(18))},
                     {"proposed_at", r.IsNull(19) ? json(nullptr) : json(r.Text(19))}});
  }
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  // The alerts name the persons: a page served is a read of personal data.
  if (!items.empty())
    DOUDI_RETURN_IF_ERROR(registry_.LogRead(actor, "alert_list", "page " + std::to_string(page), actor.region_code));
  return json{{"items", items}, {"total", total}, {"page", page}, {"page_size", page_size}};
}

// A village assistant's confirmation of a wrong payment (improper or duplicate) is a proposal
// (status 'proposed'): nothing is suspended until a town or county role confirms it (action
// confirm) or sends it back to verification (reject, with a reason). Confirmed needs (missing)
// start an application whoever confirms them: a village assistant may file one anyway.
Result<json> MonitorService::ActAlert(const auth::User& actor, int64_t id, const json& body) {
  if (!auth::CanWriteRegistry(actor.role)) return Status::PermissionDenied("您的角色不能处理预警");
  DOUDI_ASSIGN_OR_RETURN(AlertAction a, ParseAlertAction(body));
  const bool village_actor = actor.role == auth::Role::kVillageAssistant;
  if ((a.action == "confirm" || a.action == "reject") && village_actor)
    return Status::PermissionDenied("村协理员提出的核实结论须由镇街或县级人员确认");
  DOUDI_ASSIGN_OR_RETURN(AlertRow row, LoadAlert(db_, actor, id, a.version));
  DOUDI_ASSIGN_OR_RETURN(std::string to, NextStatus(a.action, row, village_actor, a.confirmed));
  if (a.action == "confirm") {
    a.confirmed = true;
    if (a.note.empty()) a.note = row.proposal;
  }
  if ((to == "resolved" || to == "proposed") && a.note.empty()) return Status::InvalidArgument("note", "请填写核查结论");
  if (a.action == "reject" && a.note.empty()) return Status::InvalidArgument("note", "请填写退回理由");
  json after;
  auto finish = [&](storage::Connection& conn, std::optional<int64_t> application_id) {
    return WriteOutcome(conn, actor, id, a, row, to, application_id, &after);
  };
  if (to == "resolved" && a.confirmed && row.category == "missing" && row.household_id) {
    // The alert's row is locked (and its version checked) before the application's audit entry
    // takes the chain's head: a concurrent action on the alert waits here, not in a deadlock.
    auto lock = [&](storage::Connection& conn) -> Status {
      auto n = conn.Execute("UPDATE alerts SET version = version WHERE id = ? AND version = ?", {id, a.version});
      if (!n.ok()) return n.status();
      return *n == 0 ? Status::VersionConflict() : Status::Ok();
    };
    auto app = applications_.CreateDiscovery(actor, row.household_id, "动态监测预警：" + row.indicator + "；" + a.note, lock,
                                      [&](storage::Connection& conn, int64_t app_id) { return finish(conn, app_id); });
    if (!app.ok()) return app.status();  // on success `after` names it
  } else {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(finish(*conn, std::nullopt));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
  }
  after["id"] = id;
  after["version"] = a.version + 1;
  return after;
}

Result<json> MonitorService::Rectification(const auth::User& actor, const std::string& month) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  std::string where = std::string(" WHERE a.") + ScopeColumn(actor.region_code) + " = ?";
  storage::Params params{actor.region_code};
  if (!month.empty()) {
    where += " AND a.month = ?";
    params.push_back(month);
  }
  auto rs = conn->Query(
      "SELECT a.town_code, t.name, a.category, a.status, a.due_date, a.confirmed FROM alerts a "
      "JOIN regions t ON t.code = a.town_code" + where,
      params);
  if (!rs.ok()) return rs.status();
  std::string today = TodayShanghai();
  std::map<std::string, json> towns;
  for (const auto& r : rs->rows) {
    json& t = towns[r.Text(0)];
    if (t.is_null()) {
      t = {{"town_code", r.Text(0)}, {"town_name", r.Text(1)}};
      for (const char* c : {"missing", "duplicate", "improper"})
        t[c] = {{"found", 0}, {"resolved", 0}, {"confirmed", 0}, {"overdue", 0}};
    }
    json& c = t[r.Text(2)];
    c["found"] = c["found"].get<int>() + 1;
    if (r.Text(3) == "resolved") {
      c["resolved"] = c["resolved"].get<int>() + 1;
      if (r.Bool(5)) c["confirmed"] = c["confirmed"].get<int>() + 1;
    } else if (today > r.Text(4)) {
      c["overdue"] = c["overdue"].get<int>() + 1;
    }
  }
  json items = json::array();
  for (auto& [code, t] : towns) items.push_back(t);
  return json{{"month", month}, {"items", items}};
}

Result<json> MonitorService::ListRuns(const auth::User& actor, int64_t page, int64_t page_size) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  return CountyPage(db_, "monitor_runs",
                    "id, month, started_at, finished_at, persons, feed_rows, matched, alerts_raised, actor, origin",
                    actor.region_code.substr(0, 6), page, page_size, [](const storage::Row& r) -> json {
                      return {{"id", r.Int(0)},      {"month", r.Text(1)},     {"started_at", r.Text(2)},
                              {"finished_at", r.Text(3)}, {"persons", r.Int(4)},  {"feed_rows", r.Int(5)},
                              {"matched", r.Int(6)}, {"alerts_raised", r.Int(7)}, {"actor", r.Text(8)},
                              {"origin", r.Text(9)}};
                    });
}

Result<json> MonitorService::ListFeeds(const auth::User& actor, int64_t page, int64_t page_size) {
  if (!(actor.role == auth::Role::kCountyAdmin || actor.role == auth::Role::kCountyReviewer ||
        actor.role == auth::Role::kDepartmentLiaison || actor.role == auth::Role::kSupervisor))
    return Status::PermissionDenied();
  return CountyPage(db_, "feed_files",
                    "id, source, month, filename, encoding, rows_total, rows_imported, rows_invalid, problems, "
                    "imported_by, imported_at",
                    actor.region_code.substr(0, 6), page, page_size, [](const storage::Row& r) -> json {
                      return {{"id", r.Int(0)},       {"source", r.Text(1)},   {"month", r.Text(2)},
                              {"filename", r.Text(3)}, {"encoding", r.Text(4)}, {"rows", r.Int(5)},
                              {"imported", r.Int(6)}, {"invalid", r.Int(7)},
                              {"problems", json::parse(r.Text(8), nullptr, false)},
                              {"imported_by", r.Text(9)}, {"imported_at", r.Text(10)}};
                    });
}

}  // namespace doudi::monitoring

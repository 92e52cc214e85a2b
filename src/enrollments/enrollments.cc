#include "enrollments/enrollments.h"

#include "audit/audit_log.h"
#include "auth/roles.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "common/lists.h"
#include "notices/notices.h"
#include "registry/list_read.h"

namespace doudi::enrollments {
namespace {

using nlohmann::json;
using storage::Connection;
using storage::Params;

// The enrollment as it stands and the change an action makes to it.
struct Change {
  int64_t id = 0;
  std::string status, program, village, county, ends_on, next_review;
  int64_t monthly = 0, old_monthly = 0;
  std::optional<int64_t> application_id;
  std::string to;  // the status after the action
};

Status BadState() { return Status(Code::kConflict, "invalid_transition", "当前状态不能执行该操作", "action"); }

// review and change_amount: a new amount (with its reason) and, on review, the next review date.
Status Review(FieldReader& r, const policy::Pack& pack, const std::string& action, const std::string& reason,
              Change& c) {
  if (c.status != "active") return BadState();
  auto m = r.OptInt("monthly_fen");
  if (!r.ok()) return r.status();
  if (action == "change_amount" && !m) return Status::InvalidArgument("monthly_fen", "请填写调整后的月救助金额");
  if (m && (*m < 0 || *m > 100000000)) return Status::InvalidArgument("monthly_fen", "金额无效");
  if (m) c.monthly = *m;
  if ((action == "change_amount" || m) && reason.empty()) return Status::InvalidArgument("reason", "请填写调整理由");
  const std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t months,
                         pack.IntOn(r.Bool("stable", false) ? "review.stable_months" : "review.other_months", today));
  if (action == "review") c.next_review = AddMonthsToDate(today, static_cast<int>(months));
  return Status::Ok();
}

// The termination notice (取消救助待遇告知书), whatever the enrollment's origin: of its case when
// it was decided on an application, else naming the household head and the enrollment.
Status ArchiveTermination(Connection& conn, const auth::User& actor, const Change& c, const std::string& reason) {
  auto info = c.application_id ? notices::InfoOfApplication(conn, *c.application_id)
                               : notices::InfoOfEnrollment(conn, c.id);
  if (!info.ok()) return info.status();
  info->programs = {c.program};
  std::string html = notices::RenderTermination(*info, reason, AddDays(c.ends_on, 1));
  DOUDI_ASSIGN_OR_RETURN(int64_t notice_id,
                         notices::Archive(conn, actor, {c.application_id.value_or(0), c.village}, "termination", html));
  auto link = conn.Execute("UPDATE notices SET enrollment_id = ? WHERE id = ?", {c.id, notice_id});
  return link.ok() ? Status::Ok() : link.status();
}

// terminate: at the end of this month, or after the pack's gradual-exit months (dibao only).
Status Terminate(FieldReader& r, const policy::Pack& pack, const std::string& reason, Change& c) {
  if (c.status != "active" && c.status != "suspended") return BadState();
  if (reason.empty()) return Status::InvalidArgument("reason", "请填写终止理由");
  bool gradual = r.Bool("gradual_exit", false);
  if (!r.ok()) return r.status();
  if (gradual && c.program != "dibao") return Status::InvalidArgument("gradual_exit", "只有低保可以渐退");
  const std::string today = TodayShanghai();
  if (gradual) {
    DOUDI_ASSIGN_OR_RETURN(int64_t months, pack.IntOn("dibao.gradual_exit_months", today));
    c.ends_on = AddDays(AddMonthsToDate(today, static_cast<int>(months)), -1);
  } else {
    // Stops from the next month (43号; 57号): paid through the end of this month.
    c.ends_on = AddDays(MonthAfter(today) + "-01", -1);
  }
  c.to = "terminated";
  return Status::Ok();
}

// The change an action makes (c.to and the new values); nothing is written here.
Status Apply(FieldReader& r, const policy::Pack& pack, const std::string& action, const std::string& reason,
             Change& c) {
  if (action == "review" || action == "change_amount") return Review(r, pack, action, reason, c);
  if (action == "suspend") {
    if (c.status != "active") return BadState();
    if (reason.empty()) return Status::InvalidArgument("reason", "请填写暂停理由");
    c.to = "suspended";
    return Status::Ok();
  }
  if (action == "resume") {
    if (c.status != "suspended") return BadState();
    c.to = "active";
    return Status::Ok();
  }
  if (action == "terminate") return Terminate(r, pack, reason, c);
  return Status::InvalidArgument("action", "操作应为 review、change_amount、suspend、resume 或 terminate");
}

Result<Change> Load(Connection& conn, int64_t id, const std::string& scope, int64_t version) {
  auto rs = conn.Query(
      "SELECT e.id, e.version, e.status, e.program, e.monthly_fen, e.village_code, e.county_code, e.application_id, "
      "e.household_id, e.next_review_date, e.ends_on FROM enrollments e WHERE e.id = ?",
      {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(5), scope)) return Status::NotFound("救助对象记录不存在");
  const auto& e = rs->rows[0];
  if (e.Int(1) != version) return Status::VersionConflict();
  Change c;
  c.id = id;
  c.status = c.to = e.Text(2);
  c.program = e.Text(3);
  c.monthly = c.old_monthly = e.Int(4);
  c.village = e.Text(5);
  c.county = e.Text(6);
  if (!e.IsNull(7)) c.application_id = e.Int(7);
  c.next_review = e.Text(9);
  c.ends_on = e.Text(10);
  return c;
}

}  // namespace

Status Enroll(Connection& conn, const NewEnrollment& e) {
  const std::string now = NowIsoShanghai();
  auto ins = conn.Execute(
      "INSERT INTO enrollments (household_id, application_id, county_code, town_code, village_code, program, covered, "
      "monthly_fen, one_off_fen, first_paid_month, status, next_review_date, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {e.household_id, e.application_id, e.county, e.town, e.village, e.program, e.covered.dump(), e.monthly_fen,
       e.one_off_fen, e.first_paid_month, std::string(e.one_off_fen ? "paid" : "active"),
       e.one_off_fen ? storage::Value(nullptr) : storage::Value(e.next_review_date), now, now});
  return ins.ok() ? Status::Ok() : ins.status();
}

Result<json> EnrollmentService::List(const auth::User& actor, const std::string& status, Page page) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string where = std::string(" WHERE e.") + ScopeColumn(actor.region_code) + " = ?";
  Params params{actor.region_code};
  if (!status.empty()) {
    where += " AND e.status = ?";
    params.push_back(status);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto page_rows, registry::QueryPage(*conn, "SELECT COUNT(*) FROM enrollments e" + where,
      "SELECT e.id, e.household_id, e.application_id, e.program, e.covered, e.monthly_fen, e.one_off_fen, "
      "e.first_paid_month, e.status, e.next_review_date, v.name, "
      "(SELECT p.name FROM persons p WHERE p.household_id = e.household_id AND p.relation = 'head') "
      "FROM enrollments e JOIN regions v ON v.code = e.village_code" +
          where + " ORDER BY e.id DESC", params, page));
  json items = json::array();
  for (const auto& r : page_rows.rows.rows)
    items.push_back({{"id", r.Int(0)}, {"household_id", r.Int(1)}, {"application_id", r.Int(2)}, {"program", r.Text(3)},
                     {"covered", ParseJsonOr(r.Text(4), json::array())}, {"monthly_fen", r.Int(5)},
                     {"one_off_fen", r.Int(6)}, {"first_paid_month", r.Text(7)}, {"status", r.Text(8)},
                     {"next_review_date", r.Text(9)}, {"village_name", r.Text(10)}, {"head_name", r.Text(11)}});
  return registry::LoggedPage(std::move(conn), registry_, actor, "enrollment_list", std::move(items), page_rows.total, page);
}

Result<json> EnrollmentService::Act(const auth::User& actor, int64_t id, const json& body) {
  if (!auth::RoleIn(actor.role, auth::kTownRoles | auth::kCountyRoles))
    return Status::PermissionDenied("只有镇街和县级人员可以办理动态管理");
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  std::string reason = r.String("reason", false);
  if (!r.ok()) return r.status();
  if (reason.size() > 2000) return Status::InvalidArgument("reason", "内容过长");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(Change c, Load(*conn, id, actor.region_code, version));
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(c.county));
  DOUDI_RETURN_IF_ERROR(Apply(r, *pack, action, reason, c));
  if (action == "terminate") DOUDI_RETURN_IF_ERROR(ArchiveTermination(*conn, actor, c, reason));
  auto upd = conn->Execute(
      "UPDATE enrollments SET status = ?, monthly_fen = ?, next_review_date = ?, ends_on = ?, status_reason = ?, "
      "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
      {c.to, c.monthly, c.next_review.empty() ? storage::Value(nullptr) : storage::Value(c.next_review),
       c.ends_on.empty() ? storage::Value(nullptr) : storage::Value(c.ends_on), reason, NowIsoShanghai(), id, version});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::VersionConflict();
  json after = {{"id", id}, {"status", c.to}, {"monthly_fen", c.monthly}, {"next_review_date", c.next_review},
                {"ends_on", c.ends_on.empty() ? json(nullptr) : json(c.ends_on)}, {"reason", reason},
                {"version", version + 1}, {"program", c.program}};
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"enrollment." + action, "enrollment", std::to_string(id), c.village,
                                            json{{"status", c.status}, {"monthly_fen", c.old_monthly}}.dump(),
                                            after.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

}  // namespace doudi::enrollments

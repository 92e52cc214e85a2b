#include "applications/referrals.h"

#include <map>

#include "audit/audit_log.h"
#include "calendar/service.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "common/lists.h"
#include "registry/list_read.h"

namespace doudi::applications {
namespace {

using nlohmann::json;
using auth::Role;
using storage::Params;

// Department codes of the policy packs ↔ the department names on liaison accounts.
const std::map<std::string, std::string> kDepartments = {
    {"medical_insurance_bureau", "医保局"},  {"education_bureau", "教育局"},
    {"housing_bureau", "住建局"},            {"human_resources_bureau", "人社局"},
    {"justice_bureau", "司法局"},            {"emergency_management_bureau", "应急管理局"},
    {"disabled_persons_federation", "残联"}, {"trade_union", "总工会"},
    {"womens_federation", "妇联"},           {"youth_league", "团县委"},
};

std::string DepartmentCode(const std::string& label) {
  for (const auto& [code, name] : kDepartments)
    if (name == label || code == label) return code;
  return "";
}
}  // namespace

Result<json> ReferralService::List(const auth::User& actor, const std::string& status, Page page) {
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string where = std::string(" WHERE referrals.") + ScopeColumn(actor.region_code) + " = ?";
  Params params{actor.region_code};
  if (actor.role == Role::kDepartmentLiaison) {
    where += " AND referrals.department = ?";
    params.push_back(DepartmentCode(actor.department));
  }
  if (!status.empty()) {
    where += " AND referrals.status = ?";
    params.push_back(status);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto page_rows, registry::QueryPage(*conn, "SELECT COUNT(*) FROM referrals" + where,
      "SELECT referrals.id, referrals.application_id, referrals.household_id, referrals.kind, referrals.department, "
      "referrals.department_label, referrals.status, referrals.due_date, referrals.note, referrals.triggers, "
      "referrals.version, (SELECT p.name FROM persons p WHERE p.household_id = referrals.household_id AND p.relation = 'head'), "
      "(SELECT v.name FROM regions v WHERE v.code = referrals.village_code), "
      "a.case_no, a.applicant_name, a.applicant_citizen_id, a.applicant_phone "
      "FROM referrals LEFT JOIN applications a ON a.id = referrals.application_id" + where + " ORDER BY referrals.due_date, referrals.id",
      params, page));
  DOUDI_ASSIGN_OR_RETURN(auto cal, calendar::ForCounty(*conn, actor.region_code.substr(0, 6)));
  std::string today = TodayShanghai();
  json items = json::array();
  for (const auto& r : page_rows.rows.rows) {
    std::string due = r.Text(7), st = r.Text(6);
    std::string due_status = st == "closed" ? "" : (today > due ? "overdue" : (cal->WorkingDaysBetween(today, due) <= 2 ? "due_soon" : "ok"));
    items.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"household_id", r.Int(2)}, {"kind", r.Text(3)},
                     {"department", r.Text(4)}, {"department_label", r.Text(5)}, {"status", st}, {"due_date", due},
                     {"due_status", due_status}, {"note", r.Text(8)}, {"triggers", SplitList(r.Text(9))},
                     {"version", r.Int(10)}, {"head_name", r.Text(11)}, {"village_name", r.Text(12)},
                     // who and how to reach them (issue 19 #1): the case, its applicant and phone (empty for a
                     // referral with no case: the join keeps it, so the page and its total agree)
                     {"case_no", r.Text(13)}, {"applicant_name", r.Text(14)},
                     {"applicant_citizen_id_masked", MaskCitizenId(r.Text(15))}, {"applicant_phone", r.Text(16)}});
  }
  return registry::LoggedPage(std::move(conn), registry_, actor, "referral_list", std::move(items), page_rows.total, page);
}

Result<json> ReferralService::Act(const auth::User& actor, int64_t id, const json& body) {
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  std::string note = r.String("note", false);
  if (!r.ok()) return r.status();
  if (note.size() > 2000) return Status::InvalidArgument("note", "内容过长");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query("SELECT status, department, village_code FROM referrals WHERE id = ?", {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(2), actor.region_code)) return Status::NotFound("转办事项不存在");
  std::string status = rs->rows[0].Text(0);
  if (actor.role != Role::kDepartmentLiaison || DepartmentCode(actor.department) != rs->rows[0].Text(1))
    return Status::PermissionDenied("只有承办部门的联络员可以办理该转办事项");
  std::string to;
  if (action == "accept" && status == "open") to = "accepted";
  else if (action == "close" && (status == "open" || status == "accepted")) to = "closed";
  else if (action != "accept" && action != "close") return Status::InvalidArgument("action", "操作应为 accept 或 close");
  else return Status(Code::kConflict, "invalid_transition", "转办事项当前状态不能执行该操作", "action");
  if (to == "closed" && note.empty()) return Status::InvalidArgument("note", "请填写办理结果");
  auto upd = conn->Execute("UPDATE referrals SET status = ?, note = ?, version = version + 1, updated_at = ? WHERE id = ?",
                           {to, note, NowIsoShanghai(), id});
  if (!upd.ok()) return upd.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"referral." + action, "referral", std::to_string(id), rs->rows[0].Text(2),
                                            json{{"status", status}}.dump(), json{{"status", to}, {"note", note}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return json{{"id", id}, {"status", to}, {"note", note}};
}

}  // namespace doudi::applications

#include "applications/record.h"

#include <algorithm>
#include <map>
#include <set>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/lists.h"

namespace doudi::applications {
namespace {

using nlohmann::json;
using storage::Connection;

const std::vector<std::string> kPrograms = {"dibao", "tekun", "temporary", "marginal", "illness_poverty"};
const std::set<std::string> kFinal = {"enrolled", "refused", "withdrawn"};

const std::map<std::string, std::string> kStateLabels = {
    {"received", "已提交，待受理"},     {"documents_requested", "待补齐材料"}, {"accepted", "已受理，待入户调查"},
    {"visited", "已入户调查，待信息核对"}, {"verified", "已核对，待镇街审核"}, {"public_notice", "公示中"},
    {"awaiting_decision", "待审批确认"}, {"enrolled", "已批准"},          {"refused", "不予审批"},
    {"withdrawn", "已撤回"},
};

constexpr const char* kAppColumns =
    "a.id, a.version, a.case_no, a.state, a.channel, a.programs, a.household_id, a.county_code, a.town_code, "
    "a.village_code, v.name, t.name, a.applicant_name, a.applicant_citizen_id, a.applicant_phone, a.staff_relative, "
    "a.escalated, a.delegated, a.received_at, a.accepted_at, a.due_date, a.extended, a.missing_items, a.visit, "
    "a.verification, a.determinations, a.town_opinion, a.notice_starts, a.notice_ends, a.decided_at, a.decision, "
    "a.decision_note, a.created_by, a.description, a.authorization_signed, a.commitment_signed";
constexpr const char* kAppFrom =
    " FROM applications a JOIN regions v ON v.code = a.village_code JOIN regions t ON t.code = a.town_code";

std::string DueStatus(const App& a, const calendar::WorkCalendar& cal) {
  if (a.due_date.empty() || kFinal.count(a.state)) return "";
  std::string today = TodayShanghai();
  if (today > a.due_date) return "overdue";
  return cal.WorkingDaysBetween(today, a.due_date) <= 2 ? "due_soon" : "ok";
}

}  // namespace

const std::vector<std::string>& Programs() { return kPrograms; }
std::string StateLabel(const std::string& state) { return kStateLabels.count(state) ? kStateLabels.at(state) : state; }
Result<std::vector<std::string>> ReadPrograms(FieldReader& r) {
  std::vector<std::string> programs;
  if (const json* p = r.Array("programs", false)) {
    for (size_t i = 0; i < p->size(); ++i) {
      if (!(*p)[i].is_string() || std::find(kPrograms.begin(), kPrograms.end(), (*p)[i].get<std::string>()) == kPrograms.end())
        return Status::InvalidArgument("programs[" + std::to_string(i) + "]", "救助类别无效");
      programs.push_back((*p)[i].get<std::string>());
    }
  }
  return programs;
}
bool IsFinal(const std::string& state) { return kFinal.count(state) > 0; }
std::string SelectApps() { return std::string("SELECT ") + kAppColumns + kAppFrom; }

App AppFromRow(const storage::Row& r) {
  App a;
  a.id = r.Int(0);
  a.version = r.Int(1);
  a.case_no = r.Text(2);
  a.state = r.Text(3);
  a.channel = r.Text(4);
  a.programs = r.Text(5);
  a.household_id = r.Int(6);
  a.county = r.Text(7);
  a.town = r.Text(8);
  a.village = r.Text(9);
  a.village_name = r.Text(10);
  a.town_name = r.Text(11);
  a.applicant_name = r.Text(12);
  a.applicant_id = r.Text(13);
  a.applicant_phone = r.Text(14);
  a.staff_relative = r.Bool(15);
  a.escalated = r.Bool(16);
  a.delegated = r.Bool(17);
  a.received_at = r.Text(18);
  a.accepted_at = r.Text(19);
  a.due_date = r.Text(20);
  a.extended = r.Bool(21);
  a.missing_items = r.Text(22);
  a.visit = r.Text(23);
  a.verification = r.Text(24);
  a.determinations = r.Text(25);
  a.town_opinion = r.Text(26);
  a.notice_starts = r.Text(27);
  a.notice_ends = r.Text(28);
  a.decided_at = r.Text(29);
  a.decision = r.Text(30);
  a.decision_note = r.Text(31);
  a.created_by = r.Text(32);
  a.description = r.Text(33);
  a.authorization = r.Bool(34);
  a.commitment = r.Bool(35);
  return a;
}

json AppSummary(const App& a, const calendar::WorkCalendar& cal) {
  return {{"id", a.id},
          {"version", a.version},
          {"case_no", a.case_no},
          {"state", a.state},
          {"state_label", StateLabel(a.state)},
          {"channel", a.channel},
          {"programs", SplitList(a.programs)},
          {"household_id", a.household_id ? json(a.household_id) : json(nullptr)},
          {"village_code", a.village},
          {"village_name", a.village_name},
          {"town_name", a.town_name},
          {"applicant_name", a.applicant_name},
          {"applicant_citizen_id_masked", MaskCitizenId(a.applicant_id)},
          {"staff_relative", a.staff_relative},
          {"authorization_signed", a.authorization},
          {"commitment_signed", a.commitment},
          {"escalated", a.escalated},
          {"delegated", a.delegated},
          {"received_at", a.received_at},
          {"accepted_at", a.accepted_at.empty() ? json(nullptr) : json(a.accepted_at)},
          {"due_date", a.due_date.empty() ? json(nullptr) : json(a.due_date)},
          {"due_status", DueStatus(a, cal)},
          {"extended", a.extended},
          {"missing_items", ParseJsonOr(a.missing_items, json::array())},
          {"notice_ends", a.notice_ends.empty() ? json(nullptr) : json(a.notice_ends)},
          {"decided_at", a.decided_at.empty() ? json(nullptr) : json(a.decided_at)},
          {"decision", a.decision.empty() ? json(nullptr) : json(a.decision)},
          {"created_by", a.created_by}};
}

Result<App> LoadApp(Connection& conn, int64_t id, const std::string& scope) {
  auto rs = conn.Query(SelectApps() + " WHERE a.id = ?", {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(9), scope)) return Status::NotFound("申请不存在");
  return AppFromRow(rs->rows[0]);
}

Status MayReadCases(const auth::User& actor) {
  return auth::CanReadRegistry(actor.role) ? Status::Ok() : Status::PermissionDenied();
}

Status AuditApp(Connection& conn, const auth::User& actor, const App& a, const std::string& action,
                const std::string& from, const std::string& to, json details) {
  details["action"] = action;
  details["from"] = from;
  details["to"] = to;
  return audit::RecordWrite(conn, actor.actor(),
                            {"application." + action, "application", std::to_string(a.id), a.village,
                             json{{"state", from}, {"version", a.version}}.dump(), details.dump()});
}

Result<std::string> AssignCaseNo(Connection& conn, int64_t id, const std::string& county, const std::string& date) {
  char case_no[64];
  std::snprintf(case_no, sizeof case_no, "%s-%s-%06lld", county.c_str(), date.substr(0, 4).c_str(),
                static_cast<long long>(id));
  auto upd = conn.Execute("UPDATE applications SET case_no = ? WHERE id = ?", {std::string(case_no), id});
  if (!upd.ok()) return upd.status();
  return std::string(case_no);
}

Result<std::vector<std::string>> CitizenIdsOf(Connection& conn, int64_t household_id) {
  DOUDI_ASSIGN_OR_RETURN(auto rs, conn.Query("SELECT citizen_id FROM persons WHERE household_id = ?", {household_id}));
  std::vector<std::string> ids;
  for (const auto& r : rs.rows) ids.push_back(r.Text(0));
  return ids;
}

bool TownConfirms(const policy::Pack& pack, const std::string& date) {
  auto v = pack.BoolOn("delegation.town_confirms", date);
  return v.ok() && *v;
}

notices::NoticeInfo InfoOf(const App& a) {
  notices::NoticeInfo n;
  n.case_no = a.case_no;
  n.applicant_name = a.applicant_name;
  n.applicant_id_masked = MaskCitizenId(a.applicant_id);
  n.village_name = a.village_name;
  n.town_name = a.town_name;
  n.programs = SplitList(a.programs);
  n.received_on = a.received_at.substr(0, 10);
  n.accepted_on = a.accepted_at.substr(0, std::min<size_t>(10, a.accepted_at.size()));
  n.due_date = a.due_date;
  return n;
}

Status SaveNotice(Connection& conn, const auth::User& actor, const App& a, const std::string& kind,
                  const std::string& html) {
  return notices::Archive(conn, actor, {a.id, a.village}, kind, html).status();
}

}  // namespace doudi::applications

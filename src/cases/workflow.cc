#include "cases/workflow.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "audit/audit_log.h"
#include "cases/notices.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "storage/idempotency.h"

namespace doudi::cases {
namespace {

using nlohmann::json;
using auth::Role;
using storage::Connection;
using storage::Params;

uint32_t Bit(Role r) { return 1u << static_cast<int>(r); }
const uint32_t kTown = Bit(Role::kTownClerk) | Bit(Role::kTownReviewer);
const uint32_t kCounty = Bit(Role::kCountyAdmin) | Bit(Role::kCountyReviewer);
const uint32_t kVillage = Bit(Role::kVillageAssistant);

const std::vector<Transition> kTransitions = {
    {"link_household", {"received", "documents_requested"}, nullptr, kTown},
    {"record_signatures", {"received", "documents_requested"}, nullptr, kTown | kVillage},
    {"request_documents", {"received"}, "documents_requested", kTown},
    {"accept", {"received", "documents_requested"}, "accepted", kTown},
    {"record_visit", {"accepted"}, "visited", kTown | kVillage | kCounty},
    {"record_verification", {"visited"}, "verified", kTown | kCounty},
    {"town_opinion", {"verified"}, nullptr, Bit(Role::kTownReviewer)},
    {"record_objection", {"public_notice"}, nullptr, kTown | kVillage},
    {"answer_objection", {"public_notice"}, nullptr, kTown | kVillage},
    {"close_notice", {"public_notice"}, "awaiting_decision", kTown},
    {"approve", {"awaiting_decision"}, "enrolled", kCounty | Bit(Role::kTownReviewer)},
    {"refuse", {"awaiting_decision"}, "refused", kCounty | Bit(Role::kTownReviewer)},
    {"extend", {"accepted", "visited", "verified", "public_notice", "awaiting_decision"}, nullptr,
     Bit(Role::kTownReviewer) | kCounty},
    {"withdraw", {"received", "documents_requested", "accepted", "visited", "verified"}, "withdrawn", kTown},
};

const std::set<std::string> kFinal = {"enrolled", "refused", "withdrawn"};
const std::vector<std::string> kPrograms = {"dibao", "tekun", "temporary", "marginal", "illness_poverty"};

const std::map<std::string, std::string> kStateLabels = {
    {"received", "已提交，待受理"},     {"documents_requested", "待补齐材料"}, {"accepted", "已受理，待入户调查"},
    {"visited", "已入户调查，待信息核对"}, {"verified", "已核对，待镇街审核"}, {"public_notice", "公示中"},
    {"awaiting_decision", "待审批确认"}, {"enrolled", "已批准"},          {"refused", "不予审批"},
    {"withdrawn", "已撤回"},
};

// Department codes of the policy packs ↔ the department names on liaison accounts.
const std::map<std::string, std::string> kDepartments = {
    {"medical_insurance_bureau", "医保局"},  {"education_bureau", "教育局"},
    {"housing_bureau", "住建局"},            {"human_resources_bureau", "人社局"},
    {"justice_bureau", "司法局"},            {"emergency_management_bureau", "应急管理局"},
    {"disabled_persons_federation", "残联"}, {"trade_union", "总工会"},
    {"womens_federation", "妇联"},           {"youth_league", "团县委"},
};

constexpr const char* kAppColumns =
    "a.id, a.version, a.case_no, a.state, a.channel, a.programs, a.household_id, a.county_code, a.town_code, "
    "a.village_code, v.name, t.name, a.applicant_name, a.applicant_citizen_id, a.applicant_phone, a.staff_relative, "
    "a.escalated, a.delegated, a.received_at, a.accepted_at, a.due_date, a.extended, a.missing_items, a.visit, "
    "a.verification, a.determinations, a.town_opinion, a.notice_starts, a.notice_ends, a.decided_at, a.decision, "
    "a.decision_note, a.created_by, a.description, a.authorization_signed, a.commitment_signed";
constexpr const char* kAppFrom =
    " FROM applications a JOIN regions v ON v.code = a.village_code JOIN regions t ON t.code = a.town_code";

struct App {
  int64_t id = 0, version = 0, household_id = 0;
  std::string case_no, state, channel, programs, county, town, village, village_name, town_name, applicant_name,
      applicant_id, applicant_phone, received_at, accepted_at, due_date, missing_items, visit, verification,
      determinations, town_opinion, notice_starts, notice_ends, decided_at, decision, decision_note, created_by,
      description;
  bool staff_relative = false, escalated = false, delegated = false, extended = false, authorization = false,
       commitment = false;
};

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

json ParseOr(const std::string& s, json def) {
  if (s.empty()) return def;
  json j = json::parse(s, nullptr, false);
  return j.is_discarded() ? def : j;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The calendars are small and change rarely: one per county, cached, invalidated by that
// county's holiday edits.
std::mutex g_cal_mu;
std::map<std::string, std::shared_ptr<const WorkCalendar>> g_cal;

Result<std::shared_ptr<const WorkCalendar>> Calendar(Connection& conn, const std::string& county) {
  std::lock_guard<std::mutex> g(g_cal_mu);
  auto& slot = g_cal[county];
  if (!slot) {
    DOUDI_ASSIGN_OR_RETURN(WorkCalendar c, WorkCalendar::Load(conn, county));
    slot = std::make_shared<const WorkCalendar>(std::move(c));
  }
  return slot;
}
void InvalidateCalendar(const std::string& county) {
  std::lock_guard<std::mutex> g(g_cal_mu);
  g_cal.erase(county);
}
// The county of a user (the first six digits of the region code).
std::string CountyOf(const auth::User& actor) { return actor.region_code.substr(0, 6); }

std::string DueStatus(const App& a, const WorkCalendar& cal) {
  if (a.due_date.empty() || kFinal.count(a.state)) return "";
  std::string today = TodayShanghai();
  if (today > a.due_date) return "overdue";
  return cal.WorkingDaysBetween(today, a.due_date) <= 2 ? "due_soon" : "ok";
}

json AppSummary(const App& a, const WorkCalendar& cal) {
  return {{"id", a.id},
          {"version", a.version},
          {"case_no", a.case_no},
          {"state", a.state},
          {"state_label", kStateLabels.count(a.state) ? kStateLabels.at(a.state) : a.state},
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
          {"missing_items", ParseOr(a.missing_items, json::array())},
          {"notice_ends", a.notice_ends.empty() ? json(nullptr) : json(a.notice_ends)},
          {"decided_at", a.decided_at.empty() ? json(nullptr) : json(a.decided_at)},
          {"decision", a.decision.empty() ? json(nullptr) : json(a.decision)},
          {"created_by", a.created_by}};
}

Result<App> LoadApp(Connection& conn, int64_t id, const std::string& scope) {
  auto rs = conn.Query(std::string("SELECT ") + kAppColumns + kAppFrom + " WHERE a.id = ?", {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(9), scope)) return Status::NotFound("申请不存在");
  return AppFromRow(rs->rows[0]);
}

// The access rule of a case's content (the application, its timeline, notices, attachments and
// the household file): the roles that read the registry (not the department liaison), and only
// within the user's region (LoadApp answers NotFound outside it, like a missing case).
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

// Role, level and case-flag rules beyond the table (docs/workflow.md): relatives of staff get a
// county home visit and county confirmation; escalated cases are confirmed by the county; the
// town confirms only where the pack delegates it.
Status MayAct(const auth::User& actor, const App& a, const Transition& t) {
  if (!(t.roles & Bit(actor.role))) return Status::PermissionDenied("您的角色不能执行该操作");
  const bool county_actor = Bit(actor.role) & kCounty;
  const std::string action = t.action;
  if (action == "record_visit" && a.staff_relative && !county_actor)
    return Status::PermissionDenied("该家庭有工作人员近亲属备案，须由县级民政部门入户调查");
  if ((action == "approve" || action == "refuse") && !county_actor && (!a.delegated || a.escalated || a.staff_relative))
    return Status::PermissionDenied(a.escalated ? "该申请已提级审核，须由县级民政部门审批" : "该申请须由县级民政部门审批确认");
  return Status::Ok();
}

Status InvalidTransition(const std::string& action, const std::string& state) {
  return Status(Code::kConflict, "invalid_transition",
                "当前状态（" + (kStateLabels.count(state) ? kStateLabels.at(state) : state) + "）不能执行该操作：" + action,
                "action");
}

std::vector<std::string> CitizenIdsOf(Connection& conn, int64_t household_id, Status* st) {
  std::vector<std::string> ids;
  auto rs = conn.Query("SELECT citizen_id FROM persons WHERE household_id = ?", {household_id});
  if (!rs.ok()) {
    *st = rs.status();
    return ids;
  }
  for (const auto& r : rs->rows) ids.push_back(r.Text(0));
  return ids;
}

// Any of `ids` on a list (county-wide). For dishonesty: only entries not yet repaid.
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

Status SaveNotice(Connection& conn, const auth::User& actor, const App& a, const std::string& kind,
                  const std::string& html, int64_t* id) {
  std::string sha = audit::Sha256Hex(html);
  auto rs = conn.Query(
      "INSERT INTO notices (application_id, village_code, kind, html, sha256, created_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {a.id, a.village, kind, html, sha, actor.username, NowIsoShanghai()});
  if (!rs.ok()) return rs.status();
  if (id) *id = rs->rows[0].Int(0);
  return audit::RecordWrite(conn, actor.actor(),
                            {"notice.create", "notice", rs->rows[0].Text(0), a.village, "null",
                             json{{"kind", kind}, {"application_id", a.id}, {"sha256", sha}}.dump()});
}

// Case numbers are county-year-id ("370725-2026-000123"): assigned right after the insert, in
// the same transaction (the row is inserted with a random placeholder).
Result<std::string> AssignCaseNo(Connection& conn, int64_t id, const std::string& county, const std::string& date) {
  char case_no[64];
  std::snprintf(case_no, sizeof case_no, "%s-%s-%06lld", county.c_str(), date.substr(0, 4).c_str(),
                static_cast<long long>(id));
  auto upd = conn.Execute("UPDATE applications SET case_no = ? WHERE id = ?", {std::string(case_no), id});
  if (!upd.ok()) return upd.status();
  return std::string(case_no);
}

struct NewCase {
  const registry::Household* household;
  const registry::Person* applicant;
  std::string channel;
  std::vector<std::string> programs;
  bool signed_pages;  // authorization and integrity commitment recorded
  bool delegated;     // the pack delegates confirmation to the town
  std::string note;
};

// Inserts an application for a registered household in the caller's transaction: flags
// relatives of staff, assigns the case number, writes the "submit" audit entry. Returns its id.
Result<int64_t> InsertCase(Connection& conn, const auth::User& actor, const NewCase& c) {
  const registry::Household& h = *c.household;
  std::vector<std::string> ids;
  for (const auto& m : h.members) ids.push_back(m.citizen_id);
  DOUDI_ASSIGN_OR_RETURN(bool relative, IsStaffRelative(conn, h.county_code, ids));
  std::string now = NowIsoShanghai();
  auto rs = conn.Query(
      "INSERT INTO applications (case_no, county_code, town_code, village_code, household_id, channel, programs, state, "
      "applicant_name, applicant_citizen_id, applicant_phone, authorization_signed, commitment_signed, staff_relative, "
      "delegated, received_at, description, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {"tmp-" + auth::RandomToken(), h.county_code, h.town_code, h.village_code, h.id, c.channel, JoinList(c.programs),
       c.applicant->name, c.applicant->citizen_id, h.phone, int64_t{c.signed_pages}, int64_t{c.signed_pages},
       int64_t{relative}, int64_t{c.delegated}, now, c.note.substr(0, 2000), actor.username, now, now});
  if (!rs.ok()) return rs.status();
  int64_t id = rs->rows[0].Int(0);
  DOUDI_RETURN_IF_ERROR(AssignCaseNo(conn, id, h.county_code, now).status());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(conn, id, actor.region_code));
  DOUDI_RETURN_IF_ERROR(AuditApp(conn, actor, a, "submit", "", "received",
                                 {{"channel", c.channel}, {"programs", c.programs}, {"staff_relative", relative},
                                  {"note", c.note}}));
  return id;
}

bool TownConfirms(const policy::Pack& pack, const std::string& date) {
  auto v = pack.BoolOn("delegation.town_confirms", date);
  return v.ok() && *v;
}

NoticeInfo InfoOf(const App& a) {
  NoticeInfo n;
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

std::string MonthAfter(const std::string& date) {
  int y, m, d;
  ParseDate(date, &y, &m, &d);
  if (++m > 12) {
    m = 1;
    ++y;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
  return buf;
}

std::string AddMonthsToDate(const std::string& date, int months) {
  int y, m, d;
  ParseDate(date, &y, &m, &d);
  int total = y * 12 + (m - 1) + months;
  int ny = total / 12, nm = total % 12 + 1;
  while (!IsValidDate(ny, nm, d)) --d;
  return FormatDate(ny, nm, d);
}

// A list that shows full citizen ids or names is a read of personal data: one read-log row per
// page served (entity e.g. "credit_list", id "page N"), none for an empty page.
Status LogListRead(registry::RegistryService& registry, const auth::User& actor, const char* entity, const json& items,
                   Page p) {
  if (items.empty()) return Status::Ok();
  return registry.LogRead(actor, entity, "page " + std::to_string(p.page), actor.region_code);
}

Result<Page> CheckPage(Page p) {
  if (p.page < 1 || p.page_size < 1 || p.page_size > 200) return Status::InvalidArgument("page", "分页参数无效");
  return p;
}

json PageJson(json items, int64_t total, Page p) {
  return {{"items", std::move(items)}, {"total", total}, {"page", p.page}, {"page_size", p.page_size}};
}

}  // namespace

const std::vector<Transition>& Transitions() { return kTransitions; }

// ------------------------------------------------------------------------------------------
// Applications

// The writes below commit in their own scope and return the application's id; the public
// calls read it back after the scope ends (GetAfterWrite), so the connection is returned to
// the pool before another is borrowed for the read.
Result<json> CaseService::Create(const auth::User& actor, const json& body) {
  audit::DeferCommits synchronous(nullptr);  // see GetAfterWrite
  DOUDI_ASSIGN_OR_RETURN(int64_t id, CreateCommit(actor, body));
  return GetAfterWrite(actor, id);
}

Result<int64_t> CaseService::CreateCommit(const auth::User& actor, const json& body) {
  if (!(Bit(actor.role) & (kTown | kVillage))) return Status::PermissionDenied("只有镇街窗口和村协理员可以登记申请");
  FieldReader r(body, "");
  int64_t household_id = r.Int("household_id", true);
  std::string channel = r.String("channel", false, actor.role == Role::kVillageAssistant ? "assistant" : "window");
  int64_t applicant_person = r.Int("applicant_person_id", false);
  bool authorization = r.Bool("authorization", false);
  bool commitment = r.Bool("commitment", false);
  std::string note = r.String("note", false);
  std::string hukou_county = r.String("hukou_county", false);
  std::string subject = r.String("verification_subject", false);
  std::vector<std::string> programs;
  if (const json* p = r.Array("programs", false)) {
    for (size_t i = 0; i < p->size(); ++i) {
      if (!(*p)[i].is_string() || std::find(kPrograms.begin(), kPrograms.end(), (*p)[i].get<std::string>()) == kPrograms.end())
        return Status::InvalidArgument("programs[" + std::to_string(i) + "]", "救助类别无效");
      programs.push_back((*p)[i].get<std::string>());
    }
  }
  if (!r.ok()) return r.status();
  if (programs.empty()) programs = kPrograms;
  if (channel != "window" && channel != "assistant" && channel != "hotline" && channel != "discovery")
    return Status::InvalidArgument("channel", "申请渠道应为 window、assistant、hotline 或 discovery");
  if (note.size() > 2000) return Status::InvalidArgument("note", "备注过长");
  if (!hukou_county.empty() && LevelOfCode(hukou_county) != RegionLevel::kCounty)
    return Status::InvalidArgument("hukou_county", "户籍所在县应为6位区划代码");
  if (subject.size() > 1000) return Status::InvalidArgument("verification_subject", "协查事项过长");
  if (subject.empty()) subject = "户籍、家庭成员及经济状况";
  if (!authorization) return Status::InvalidArgument("authorization", "须签署家庭经济状况核对授权书");
  if (!commitment) return Status::InvalidArgument("commitment", "须签署诚信承诺书");
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, household_id));
  const registry::Person* applicant = nullptr;
  for (const auto& m : h.members)
    if ((applicant_person && m.id == applicant_person) || (!applicant_person && m.relation == "head")) applicant = &m;
  if (!applicant) return Status::InvalidArgument("applicant_person_id", "申请人须为该家庭成员");
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(h.county_code));
  const bool delegated = TownConfirms(*pack, TodayShanghai());

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertCase(*conn, actor, {&h, applicant, channel, programs, true, delegated, note}));
  std::string now = NowIsoShanghai();
  auto upd = conn->Execute("UPDATE applications SET hukou_county = ? WHERE id = ?", {hukou_county, id});
  if (!upd.ok()) return upd.status();
  if (!hukou_county.empty() && hukou_county != h.county_code) {
    // Residence-permit application: the hukou county verifies (人户分离, 57号 第五条).
    auto vr = conn->Execute(
        "INSERT INTO verification_requests (application_id, from_county, to_county, citizen_id, applicant_name, status, "
        "created_at, subject) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
        {id, h.county_code, hukou_county, applicant->citizen_id, applicant->name, now, subject});
    if (!vr.ok()) return vr.status();
  }
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<int64_t> CaseService::CreateDiscovery(const auth::User& actor, int64_t household_id, const std::string& note,
                                             const std::function<Status(Connection&)>& first,
                                             const std::function<Status(Connection&, int64_t)>& also) {
  // The household's read is logged before the write (a failure stops it; see GetAfterWrite).
  audit::DeferCommits synchronous(nullptr);
  if (!(Bit(actor.role) & (kTown | kVillage | kCounty))) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, household_id));
  const registry::Person* head = nullptr;
  for (const auto& m : h.members)
    if (m.relation == "head") head = &m;
  if (!head) return Status::FailedPrecondition("该家庭没有户主");
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(h.county_code));
  const bool delegated = TownConfirms(*pack, TodayShanghai());
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  if (first) DOUDI_RETURN_IF_ERROR(first(*conn));
  // Leads arrive unsigned: the signatures are recorded before acceptance (record_signatures).
  DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertCase(*conn, actor, {&h, head, "discovery", kPrograms, false, delegated, note}));
  if (also) DOUDI_RETURN_IF_ERROR(also(*conn, id));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<json> CaseService::List(const auth::User& actor, const std::string& state, const std::string& q,
                               const std::string& village, const std::string& sort, Page page) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string where = std::string(" WHERE a.") + ScopeColumn(actor.region_code) + " = ?";
  Params params{actor.region_code};
  if (!state.empty()) {
    if (state == "open") {
      where += " AND a.state NOT IN ('enrolled', 'refused', 'withdrawn')";
    } else {
      where += " AND a.state = ?";
      params.push_back(state);
    }
  }
  if (!village.empty()) {
    if (!CodeWithin(village, actor.region_code)) return Status::NotFound("该区划不在您的管辖范围内");
    where += std::string(" AND a.") + ScopeColumn(village) + " = ?";
    params.push_back(village);
  }
  if (!q.empty()) {
    where += " AND (a.case_no = ? OR a.applicant_name LIKE ?)";
    params.push_back(q);
    params.push_back("%" + q + "%");
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM applications a" + where, params);
  if (!count.ok()) return count.status();
  std::string order = sort == "new" ? " ORDER BY a.id DESC"
                                    : " ORDER BY CASE WHEN a.due_date IS NULL THEN 1 ELSE 0 END, a.due_date, a.id";
  params.push_back(page.page_size);
  params.push_back((page.page - 1) * page.page_size);
  auto rs = conn->Query(std::string("SELECT ") + kAppColumns + kAppFrom + where + order + " LIMIT ? OFFSET ?", params);
  if (!rs.ok()) return rs.status();
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, CountyOf(actor)));
  json items = json::array();
  for (const auto& row : rs->rows) items.push_back(AppSummary(AppFromRow(row), *cal));
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "application_list", items, page));
  return PageJson(std::move(items), total, page);
}

// The rows of one of an application's lists (objections, notices, …), each made into JSON.
Result<json> ListOf(Connection& conn, const std::string& sql, int64_t application_id,
                    const std::function<json(const storage::Row&)>& make) {
  DOUDI_ASSIGN_OR_RETURN(auto rs, conn.Query(sql, {application_id}));
  json items = json::array();
  for (const auto& r : rs.rows) items.push_back(make(r));
  return items;
}

Result<json> CaseService::Get(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, id, actor.region_code));
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, a.county));
  json out = AppSummary(a, *cal);
  out["applicant_citizen_id"] = a.applicant_id;
  out["applicant_phone"] = a.applicant_phone;
  out["description"] = a.description;
  out["visit"] = ParseOr(a.visit, nullptr);
  out["visits"] = a.visit.empty() ? json::array() : json::array({ParseOr(a.visit, nullptr)});
  out["verification"] = ParseOr(a.verification, nullptr);
  out["determinations"] = ParseOr(a.determinations, nullptr);
  out["town_opinion"] = ParseOr(a.town_opinion, nullptr);
  out["notice_starts"] = a.notice_starts.empty() ? json(nullptr) : json(a.notice_starts);
  out["decision_note"] = a.decision_note;
  DOUDI_ASSIGN_OR_RETURN(
      out["objections"],
      ListOf(*conn,
             "SELECT id, content, by_name, recorded_by, recorded_at, answer, answered_by, answered_at FROM objections "
             "WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"content", r.Text(1)}, {"by", r.Text(2)}, {"recorded_by", r.Text(3)},
                       {"recorded_at", r.Text(4)}, {"answer", r.IsNull(5) ? json(nullptr) : json(r.Text(5))},
                       {"answered_by", r.Text(6)}, {"answered_at", r.Text(7)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["notices"],
      ListOf(*conn, "SELECT id, kind, created_at, sha256 FROM notices WHERE application_id = ? ORDER BY id", id,
             [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"kind", r.Text(1)}, {"created_at", r.Text(2)}, {"sha256", r.Text(3)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["enrollments"],
      ListOf(*conn,
             "SELECT id, program, covered, monthly_fen, one_off_fen, first_paid_month, status, next_review_date "
             "FROM enrollments WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"program", r.Text(1)}, {"covered", ParseOr(r.Text(2), json::array())},
                       {"monthly_fen", r.Int(3)}, {"one_off_fen", r.Int(4)}, {"first_paid_month", r.Text(5)},
                       {"status", r.Text(6)}, {"next_review_date", r.Text(7)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["referrals"],
      ListOf(*conn,
             "SELECT id, kind, department, department_label, status, due_date FROM referrals WHERE application_id = ? "
             "ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)},     {"kind", r.Text(1)},   {"department", r.Text(2)},
                       {"department_label", r.Text(3)}, {"status", r.Text(4)}, {"due_date", r.Text(5)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["attachments"],
      ListOf(*conn,
             "SELECT id, kind, filename, content_type, size_bytes, uploaded_by, uploaded_at FROM attachments "
             "WHERE application_id = ? ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)},          {"kind", r.Text(1)},        {"filename", r.Text(2)},
                       {"content_type", r.Text(3)}, {"size_bytes", r.Int(4)}, {"uploaded_by", r.Text(5)},
                       {"uploaded_at", r.Text(6)}};
             }));
  DOUDI_ASSIGN_OR_RETURN(
      out["verification_requests"],
      ListOf(*conn,
             "SELECT id, to_county, status, answer, answered_at FROM verification_requests WHERE application_id = ? "
             "ORDER BY id",
             id, [](const storage::Row& r) -> json {
               return {{"id", r.Int(0)}, {"to_county", r.Text(1)}, {"status", r.Text(2)}, {"answer", r.Text(3)},
                       {"answered_at", r.Text(4)}};
             }));
  { storage::Lease back = std::move(conn); }  // to the pool before the household's read and the read log's commit
  if (a.household_id) {
    auto h = registry_.GetHousehold(actor, a.household_id);
    out["household"] = h.ok() ? registry::ToJson(*h) : json(nullptr);
  } else {
    out["household"] = nullptr;
  }
  json allowed = json::array();
  for (const auto& t : kTransitions) {
    bool from_ok = false;
    for (const char* f : t.from)
      if (f && a.state == f) from_ok = true;
    if (from_ok && MayAct(actor, a, t).ok()) allowed.push_back(t.action);
  }
  out["allowed_actions"] = allowed;
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
Result<json> CaseService::GetAfterWrite(const auth::User& actor, int64_t id) {
  auto doc = Get(actor, id);
  if (doc.ok()) return doc;
  return Status::CommittedUnread("application " + std::to_string(id) + " committed, read back failed: " +
                                 doc.status().detail());
}

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

Result<json> CaseService::Timeline(const auth::User& actor, int64_t id) {
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
    json after = ParseOr(r.Text(3), json::object());
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

Result<json> CaseService::HouseholdFile(const auth::User& actor, int64_t household_id) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, household_id));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, h.county_code));
  auto apps = conn->Query(std::string("SELECT ") + kAppColumns + kAppFrom + " WHERE a.household_id = ? ORDER BY a.id DESC",
                          {household_id});
  if (!apps.ok()) return apps.status();
  json applications = json::array(), notices = json::array(), visits = json::array(), determinations = json::array();
  for (const auto& row : apps->rows) {
    App a = AppFromRow(row);
    applications.push_back(AppSummary(a, *cal));
    if (!a.visit.empty()) visits.push_back({{"application_id", a.id}, {"case_no", a.case_no}, {"visit", ParseOr(a.visit, nullptr)}});
    if (!a.determinations.empty()) {
      json d = ParseOr(a.determinations, nullptr);
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
      "SELECT n.id, n.kind, n.created_at, n.application_id, a.case_no FROM notices n JOIN applications a "
      "ON a.id = n.application_id WHERE a.household_id = ? ORDER BY n.id DESC",
      {household_id});
  if (!ns.ok()) return ns.status();
  for (const auto& r : ns->rows)
    notices.push_back({{"id", r.Int(0)}, {"kind", r.Text(1)}, {"created_at", r.Text(2)}, {"application_id", r.Int(3)},
                       {"case_no", r.Text(4)}});
  auto es = conn->Query(
      "SELECT id, application_id, program, covered, monthly_fen, one_off_fen, first_paid_month, status, next_review_date, "
      "ends_on, status_reason, version FROM enrollments WHERE household_id = ? ORDER BY id DESC",
      {household_id});
  if (!es.ok()) return es.status();
  json enrollments = json::array();
  for (const auto& r : es->rows)
    enrollments.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"program", r.Text(2)},
                           {"covered", ParseOr(r.Text(3), json::array())}, {"monthly_fen", r.Int(4)},
                           {"one_off_fen", r.Int(5)}, {"first_paid_month", r.Text(6)}, {"status", r.Text(7)},
                           {"next_review_date", r.Text(8)}, {"ends_on", r.IsNull(9) ? json(nullptr) : json(r.Text(9))},
                           {"status_reason", r.Text(10)}, {"version", r.Int(11)}});
  return json{{"household_id", household_id}, {"applications", applications}, {"notices", notices},
              {"visits", visits}, {"determinations", determinations}, {"enrollments", enrollments}};
}

Result<json> CaseService::GetNotice(const auth::User& actor, int64_t id) {
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
  return json{{"id", r.Int(0)}, {"kind", r.Text(1)}, {"application_id", r.Int(2)}, {"created_at", r.Text(3)},
              {"sha256", r.Text(4)}, {"html", r.Text(5)}};
}

Result<json> CaseService::Act(const auth::User& actor, int64_t id, const json& body) {
  audit::DeferCommits synchronous(nullptr);  // see GetAfterWrite
  DOUDI_RETURN_IF_ERROR(ActCommit(actor, id, body).status());
  return GetAfterWrite(actor, id);
}

Result<int64_t> CaseService::ActCommit(const auth::User& actor, int64_t id, const json& body) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));  // a liaison learns nothing about a case (403 for any id)
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  if (!r.ok()) return r.status();
  auto t = std::find_if(kTransitions.begin(), kTransitions.end(), [&](const Transition& x) { return action == x.action; });
  if (t == kTransitions.end()) return Status::InvalidArgument("action", "未知的办理操作：" + action);

  // Work that reads through other services (its own connections) happens before the write
  // transaction: on SQLite a second connection could not write while we hold the lock.
  App pre;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(pre, LoadApp(*conn, id, actor.region_code));
  }
  bool from_ok = false;
  for (const char* f : t->from)
    if (f && pre.state == f) from_ok = true;
  if (!from_ok) return InvalidTransition(action, pre.state);
  DOUDI_RETURN_IF_ERROR(MayAct(actor, pre, *t));
  if (pre.version != version) return Status::VersionConflict();

  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(pre.county));
  json determinations;
  if (action == "record_verification") {
    if (!pre.household_id) return Status::FailedPrecondition("请先关联户籍家庭", "household_id");
    std::string date = r.String("date", false, today);
    int y, m, d;
    if (!ParseDate(date, &y, &m, &d)) return Status::InvalidArgument("date", "日期应为 YYYY-MM-DD");
    DOUDI_ASSIGN_OR_RETURN(determinations, policy_.HouseholdDeterminations(actor, pre.household_id, date));
  }
  std::optional<registry::Household> linked;
  if (action == "link_household") {
    int64_t hid = r.Int("household_id", true);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(linked, registry_.GetHousehold(actor, hid));
    if (linked->village_code != pre.village) return Status::InvalidArgument("household_id", "家庭须属于申请所在村（社区）");
  }

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, id, actor.region_code));
  if (a.version != version) return Status::VersionConflict();
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, a.county));
  std::string to = t->to ? t->to : a.state;
  std::string now = NowIsoShanghai();
  json details = json::object();
  std::vector<std::string> sets;  // "column = ?" fragments
  Params values;
  auto set = [&](const char* col, storage::Value v) {
    sets.push_back(std::string(col) + " = ?");
    values.push_back(std::move(v));
  };
  auto member_ids = [&]() -> Result<std::vector<std::string>> {
    Status st;
    std::vector<std::string> ids = a.household_id ? CitizenIdsOf(*conn, a.household_id, &st) : std::vector<std::string>{};
    if (!st.ok()) return st;
    ids.push_back(a.applicant_id);
    return ids;
  };
  auto text = [&](const char* key, bool required, size_t max = 2000) -> Result<std::string> {
    std::string v = r.String(key, required);
    if (!r.ok()) return r.status();
    size_t a = v.find_first_not_of(" \t\r\n"), b = v.find_last_not_of(" \t\r\n");
    v = a == std::string::npos ? "" : v.substr(a, b - a + 1);
    if (required && v.empty()) return Status::InvalidArgument(key, "不能为空");
    if (v.size() > max) return Status::InvalidArgument(key, "内容过长");
    return v;
  };
  auto string_list = [&](const char* key) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    const json* arr = r.Array(key, false);
    if (!r.ok()) return r.status();
    if (!arr) return out;
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto& e = (*arr)[i];
      if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().size() > 200)
        return Status::InvalidArgument(std::string(key) + "[" + std::to_string(i) + "]", "应为非空文字");
      out.push_back(e.get<std::string>());
    }
    return out;
  };

  if (action == "link_household") {
    set("household_id", linked->id);
    std::vector<std::string> ids;
    for (const auto& m : linked->members) ids.push_back(m.citizen_id);
    DOUDI_ASSIGN_OR_RETURN(bool relative, IsStaffRelative(*conn, a.county, ids));
    set("staff_relative", int64_t{relative || a.staff_relative});
    details["household_id"] = linked->id;
  } else if (action == "record_signatures") {
    bool authorization = r.Bool("authorization", true), commitment = r.Bool("commitment", true);
    if (!r.ok()) return r.status();
    if (!authorization || !commitment) return Status::InvalidArgument("authorization", "须同时签署授权书和诚信承诺书");
    set("authorization_signed", int64_t{1});
    set("commitment_signed", int64_t{1});
  } else if (action == "request_documents") {
    DOUDI_ASSIGN_OR_RETURN(auto items, string_list("missing_items"));
    if (items.empty()) return Status::InvalidArgument("missing_items", "请列出需要补齐的全部材料");
    set("missing_items", json(items).dump());
    std::string html = RenderMissingItems(InfoOf(a), items);
    DOUDI_RETURN_IF_ERROR(SaveNotice(*conn, actor, a, "missing_items", html, nullptr));
    details["missing_items"] = items;
  } else if (action == "accept") {
    if (!a.household_id) return Status::FailedPrecondition("请先关联户籍家庭（网上申请须先登记家庭）", "household_id");
    if (!a.authorization || !a.commitment)
      return Status::FailedPrecondition("申请人尚未签署授权书和诚信承诺书", "authorization");
    DOUDI_ASSIGN_OR_RETURN(auto items, string_list("missing_items"));
    DOUDI_ASSIGN_OR_RETURN(auto ids, member_ids());
    bool blocked_rule = pack->BoolOn("credit.reapply_blocked_until_repaid", today).ok() &&
                        *pack->BoolOn("credit.reapply_blocked_until_repaid", today);
    DOUDI_ASSIGN_OR_RETURN(bool dishonest, OnList(*conn, a.county, ids, "dishonesty"));
    if (dishonest && blocked_rule)
      return Status::FailedPrecondition("申请人或家庭成员在失信名单中，须先退还违规领取的救助金并登记后方可受理", "credit");
    if (!items.empty()) {
      DOUDI_ASSIGN_OR_RETURN(bool trusted, OnList(*conn, a.county, ids, "trust"));
      if (!trusted) return Status::FailedPrecondition("仅守信名单中的申请人可以容缺受理，请先补齐材料", "missing_items");
      details["accepted_with_missing_items"] = items;
    }
    DOUDI_ASSIGN_OR_RETURN(int64_t days, pack->IntOn(a.delegated ? "workflow.dibao.total_delegated_working_days"
                                                                : "workflow.dibao.total_working_days",
                                                     today));
    std::string due = cal->AddWorkingDays(today, static_cast<int>(days));
    set("accepted_at", now);
    set("due_date", due);
    set("missing_items", json(items).dump());
    a.accepted_at = now;
    a.due_date = due;
    std::string html = RenderAcceptance(InfoOf(a));
    DOUDI_RETURN_IF_ERROR(SaveNotice(*conn, actor, a, "acceptance", html, nullptr));
    details["due_date"] = due;
    details["working_days"] = days;
  } else if (action == "record_visit") {
    std::string visited_on = r.String("visited_on", false, today);
    DOUDI_ASSIGN_OR_RETURN(auto staff, string_list("staff"));
    DOUDI_ASSIGN_OR_RETURN(std::string findings, text("findings", true));
    int y, m, d;
    if (!ParseDate(visited_on, &y, &m, &d) || visited_on > today)
      return Status::InvalidArgument("visited_on", "入户日期无效");
    DOUDI_ASSIGN_OR_RETURN(int64_t team_min, pack->IntOn("workflow.dibao.survey_team_min", today));
    if (static_cast<int64_t>(staff.size()) < team_min)
      return Status::InvalidArgument("staff", "入户调查人员不少于" + std::to_string(team_min) + "人");
    json visit = {{"visited_on", visited_on}, {"staff", staff}, {"findings", findings}, {"recorded_by", actor.username}};
    set("visit", visit.dump());
    details["visit"] = visit;
  } else if (action == "record_verification") {
    DOUDI_ASSIGN_OR_RETURN(std::string findings, text("findings", false));
    json verification = {{"findings", findings}, {"date", determinations.value("date", today)},
                         {"recorded_by", actor.username}};
    set("verification", verification.dump());
    set("determinations", determinations.dump());
    details["verification"] = verification;
  } else if (action == "town_opinion") {
    std::string recommend = r.String("recommend", true);
    DOUDI_ASSIGN_OR_RETURN(std::string opinion, text("opinion", true));
    bool escalate = r.Bool("escalate", false);
    if (!r.ok()) return r.status();
    if (recommend != "approve" && recommend != "refuse")
      return Status::InvalidArgument("recommend", "审核意见应为 approve 或 refuse");
    json op = {{"recommend", recommend}, {"opinion", opinion}, {"escalate", escalate}, {"by", actor.username},
               {"at", now}};
    set("town_opinion", op.dump());
    set("escalated", int64_t{escalate});
    if (recommend == "approve") {
      DOUDI_ASSIGN_OR_RETURN(int64_t notice_days, pack->IntOn("workflow.dibao.public_notice_days", today));
      to = "public_notice";
      set("notice_starts", today);
      set("notice_ends", AddDays(today, static_cast<int>(notice_days)));
      details["notice_ends"] = AddDays(today, static_cast<int>(notice_days));
    } else {
      to = "awaiting_decision";
    }
    details["opinion"] = op;
  } else if (action == "record_objection") {
    DOUDI_ASSIGN_OR_RETURN(std::string content, text("content", true));
    DOUDI_ASSIGN_OR_RETURN(std::string by, text("by", false, 100));
    auto ins = conn->Query(
        "INSERT INTO objections (application_id, content, by_name, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        {a.id, content, by, actor.username, now});
    if (!ins.ok()) return ins.status();
    details["objection_id"] = ins->rows[0].Int(0);
    details["content"] = content;
  } else if (action == "answer_objection") {
    int64_t oid = r.Int("objection_id", true);
    DOUDI_ASSIGN_OR_RETURN(std::string answer, text("answer", true));
    auto upd = conn->Execute(
        "UPDATE objections SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND application_id = ? AND "
        "answer IS NULL",
        {answer, actor.username, now, oid, a.id});
    if (!upd.ok()) return upd.status();
    if (*upd == 0) return Status::InvalidArgument("objection_id", "没有待答复的该条异议");
    details["objection_id"] = oid;
    details["answer"] = answer;
  } else if (action == "close_notice") {
    if (today < a.notice_ends)
      return Status::FailedPrecondition("公示期至" + a.notice_ends + "结束，公示期满后方可结束公示", "notice_ends");
    auto open = conn->Query("SELECT COUNT(*) FROM objections WHERE application_id = ? AND answer IS NULL", {a.id});
    if (!open.ok()) return open.status();
    if (open->rows[0].Int(0) > 0) return Status::FailedPrecondition("还有未答复的公示异议", "objections");
  } else if (action == "approve") {
    DOUDI_ASSIGN_OR_RETURN(std::string opinion, text("opinion", false));
    json det = ParseOr(a.determinations, nullptr);
    if (det.is_null()) return Status::FailedPrecondition("缺少信息核对结果");
    std::vector<std::string> programs = SplitList(a.programs);
    auto wanted = [&](const char* p) { return std::find(programs.begin(), programs.end(), p) != programs.end(); };
    std::string first_month = MonthAfter(today);
    DOUDI_ASSIGN_OR_RETURN(int64_t review_stable, pack->IntOn("review.stable_months", today));
    DOUDI_ASSIGN_OR_RETURN(int64_t review_other, pack->IntOn("review.other_months", today));
    bool employable = false;
    for (const auto& ref : det.value("referrals", json::array()))
      if (ref.value("kind", "") == "employment") employable = true;
    std::string next_review = AddMonthsToDate(today, static_cast<int>(employable ? review_other : review_stable));
    std::vector<std::string> lines;
    int enrolled = 0;
    auto enroll = [&](const std::string& program, const json& covered, int64_t monthly, int64_t one_off) -> Status {
      auto ins = conn->Execute(
          "INSERT INTO enrollments (household_id, application_id, county_code, town_code, village_code, program, covered, "
          "monthly_fen, one_off_fen, first_paid_month, status, next_review_date, created_at, updated_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {a.household_id, a.id, a.county, a.town, a.village, program, covered.dump(), monthly, one_off, first_month,
           std::string(one_off ? "paid" : "active"), one_off ? storage::Value(nullptr) : storage::Value(next_review),
           now, now});
      if (!ins.ok()) return ins.status();
      ++enrolled;
      return Status::Ok();
    };
    json all_ids = json::array();
    {
      Status st;
      for (const auto& cid : CitizenIdsOf(*conn, a.household_id, &st)) all_ids.push_back(cid);
      if (!st.ok()) return st;
    }
    if (wanted("dibao") && det["dibao"].value("eligible", false)) {
      int64_t m = det["dibao"].value("monthly_fen", int64_t{0});
      DOUDI_RETURN_IF_ERROR(enroll("dibao", det["dibao"]["covered"], m, 0));
      lines.push_back("最低生活保障（" + std::string(det["dibao"].value("coverage", "") == "single_persons" ? "单人保" : "整户施保") +
                      "）：每月 " + Yuan(m) + " 元，自 " + first_month + " 起按月发放");
    }
    if (wanted("tekun") && det["tekun"].value("eligible", false)) {
      int64_t m = det["tekun"].value("monthly_fen", int64_t{0});
      DOUDI_RETURN_IF_ERROR(enroll("tekun", det["tekun"]["covered"], m, 0));
      lines.push_back("特困人员救助供养：每月 " + Yuan(m) + " 元，自 " + first_month + " 起按月发放");
    }
    if (wanted("marginal") && det["marginal"].value("eligible", false)) {
      DOUDI_RETURN_IF_ERROR(enroll("marginal", all_ids, 0, 0));
      lines.push_back("认定为低保边缘家庭，可享受相应专项救助");
    }
    if (wanted("illness_poverty") && det["illness_poverty"].value("eligible", false)) {
      DOUDI_RETURN_IF_ERROR(enroll("illness_poverty", det["illness_poverty"]["covered"], 0, 0));
      lines.push_back("认定为因病致贫重病患者，转介医疗救助");
    }
    if (det["expenditure_hardship"].value("eligible", false) && (wanted("temporary") || wanted("marginal"))) {
      DOUDI_RETURN_IF_ERROR(enroll("expenditure_hardship", all_ids, 0, 0));
      lines.push_back("认定为刚性支出困难家庭");
    }
    if (wanted("temporary") && det["temporary"].value("eligible", false)) {
      int64_t amount = det["temporary"].value("amount_fen", int64_t{0});
      DOUDI_RETURN_IF_ERROR(enroll("temporary", all_ids, 0, amount));
      lines.push_back("临时救助：一次性 " + Yuan(amount) + " 元");
    }
    if (enrolled == 0)
      return Status::FailedPrecondition("信息核对测算结果不符合所申请的任何救助条件，请作出不予审批决定", "determinations");
    DOUDI_ASSIGN_OR_RETURN(int64_t ref_days, pack->IntOn("workflow.referral.response_working_days", today));
    std::string ref_due = cal->AddWorkingDays(today, static_cast<int>(ref_days));
    for (const auto& ref : det.value("referrals", json::array())) {
      std::string triggers;
      for (const auto& tg : ref.value("triggers", json::array())) triggers += (triggers.empty() ? "" : ",") + tg.get<std::string>();
      auto ins = conn->Execute(
          "INSERT INTO referrals (application_id, household_id, county_code, town_code, village_code, kind, department, "
          "department_label, triggers, status, due_date, created_at, updated_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
          {a.id, a.household_id, a.county, a.town, a.village, ref.value("kind", ""), ref.value("department", ""),
           ref.value("department_label", ""), triggers, ref_due, now, now});
      if (!ins.ok()) return ins.status();
    }
    set("decided_at", now);
    set("decision", std::string("approved"));
    set("decision_note", opinion);
    std::string html = RenderApproval(InfoOf(a), lines, today);
    DOUDI_RETURN_IF_ERROR(SaveNotice(*conn, actor, a, "approval", html, nullptr));
    details["enrollments"] = enrolled;
    details["first_paid_month"] = first_month;
    if (!opinion.empty()) details["opinion"] = opinion;
  } else if (action == "refuse") {
    DOUDI_ASSIGN_OR_RETURN(std::string reasons, text("reasons", true));
    set("decided_at", now);
    set("decision", std::string("refused"));
    set("decision_note", reasons);
    std::string html = RenderRefusal(InfoOf(a), reasons, today);
    DOUDI_RETURN_IF_ERROR(SaveNotice(*conn, actor, a, "refusal", html, nullptr));
    details["reasons"] = reasons;
  } else if (action == "extend") {
    DOUDI_ASSIGN_OR_RETURN(std::string reason, text("reason", true));
    if (a.extended) return Status::FailedPrecondition("该申请已延长过办理期限", "extended");
    DOUDI_ASSIGN_OR_RETURN(int64_t days, pack->IntOn("workflow.dibao.total_extended_working_days", today));
    std::string due = cal->AddWorkingDays(a.accepted_at.substr(0, 10), static_cast<int>(days));
    set("extended", int64_t{1});
    set("due_date", due);
    details["due_date"] = due;
    details["reason"] = reason;
  } else if (action == "withdraw") {
    DOUDI_ASSIGN_OR_RETURN(std::string reason, text("reason", false));
    set("decided_at", now);
    set("decision", std::string("withdrawn"));
    set("decision_note", reason);
    details["reason"] = reason;
  }
  if (!r.ok()) return r.status();

  set("state", to);
  set("updated_at", now);
  std::string sql = "UPDATE applications SET ";
  for (size_t i = 0; i < sets.size(); ++i) sql += (i ? ", " : "") + sets[i];
  sql += ", version = version + 1 WHERE id = ? AND version = ?";
  values.push_back(a.id);
  values.push_back(version);
  auto upd = conn->Execute(sql, values);
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::VersionConflict();
  DOUDI_RETURN_IF_ERROR(AuditApp(*conn, actor, a, action, a.state, to, details));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

// ------------------------------------------------------------------------------------------
// Enrollments and referrals

Result<json> CaseService::ListEnrollments(const auth::User& actor, const std::string& status, Page page) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string where = std::string(" WHERE e.") + ScopeColumn(actor.region_code) + " = ?";
  Params params{actor.region_code};
  if (!status.empty()) {
    where += " AND e.status = ?";
    params.push_back(status);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM enrollments e" + where, params);
  if (!count.ok()) return count.status();
  params.push_back(page.page_size);
  params.push_back((page.page - 1) * page.page_size);
  auto rs = conn->Query(
      "SELECT e.id, e.household_id, e.application_id, e.program, e.covered, e.monthly_fen, e.one_off_fen, "
      "e.first_paid_month, e.status, e.next_review_date, v.name, "
      "(SELECT p.name FROM persons p WHERE p.household_id = e.household_id AND p.relation = 'head') "
      "FROM enrollments e JOIN regions v ON v.code = e.village_code" +
          where + " ORDER BY e.id DESC LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"household_id", r.Int(1)}, {"application_id", r.Int(2)}, {"program", r.Text(3)},
                     {"covered", ParseOr(r.Text(4), json::array())}, {"monthly_fen", r.Int(5)},
                     {"one_off_fen", r.Int(6)}, {"first_paid_month", r.Text(7)}, {"status", r.Text(8)},
                     {"next_review_date", r.Text(9)}, {"village_name", r.Text(10)}, {"head_name", r.Text(11)}});
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "enrollment_list", items, page));
  return PageJson(std::move(items), total, page);
}

namespace {
std::string DepartmentCode(const std::string& label) {
  for (const auto& [code, name] : kDepartments)
    if (name == label || code == label) return code;
  return "";
}
}  // namespace

Result<json> CaseService::ListReferrals(const auth::User& actor, const std::string& status, Page page) {
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string where = std::string(" WHERE ") + ScopeColumn(actor.region_code) + " = ?";
  Params params{actor.region_code};
  if (actor.role == Role::kDepartmentLiaison) {
    where += " AND department = ?";
    params.push_back(DepartmentCode(actor.department));
  }
  if (!status.empty()) {
    where += " AND status = ?";
    params.push_back(status);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM referrals" + where, params);
  if (!count.ok()) return count.status();
  params.push_back(page.page_size);
  params.push_back((page.page - 1) * page.page_size);
  auto rs = conn->Query(
      "SELECT id, application_id, household_id, kind, department, department_label, status, due_date, note, triggers, "
      "version, (SELECT p.name FROM persons p WHERE p.household_id = referrals.household_id AND p.relation = 'head'), "
      "(SELECT v.name FROM regions v WHERE v.code = referrals.village_code) "
      "FROM referrals" + where + " ORDER BY due_date, id LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, CountyOf(actor)));
  std::string today = TodayShanghai();
  json items = json::array();
  for (const auto& r : rs->rows) {
    std::string due = r.Text(7), st = r.Text(6);
    std::string due_status = st == "closed" ? "" : (today > due ? "overdue" : (cal->WorkingDaysBetween(today, due) <= 2 ? "due_soon" : "ok"));
    items.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"household_id", r.Int(2)}, {"kind", r.Text(3)},
                     {"department", r.Text(4)}, {"department_label", r.Text(5)}, {"status", st}, {"due_date", due},
                     {"due_status", due_status}, {"note", r.Text(8)}, {"triggers", SplitList(r.Text(9))},
                     {"version", r.Int(10)}, {"head_name", r.Text(11)}, {"village_name", r.Text(12)}});
  }
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "referral_list", items, page));
  return PageJson(std::move(items), total, page);
}

Result<json> CaseService::ActReferral(const auth::User& actor, int64_t id, const json& body) {
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

Result<json> CaseService::ActEnrollment(const auth::User& actor, int64_t id, const json& body) {
  if (!(Bit(actor.role) & (kTown | kCounty))) return Status::PermissionDenied("只有镇街和县级人员可以办理动态管理");
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  std::string reason = r.String("reason", false);
  if (!r.ok()) return r.status();
  if (reason.size() > 2000) return Status::InvalidArgument("reason", "内容过长");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query(
      "SELECT e.id, e.version, e.status, e.program, e.monthly_fen, e.village_code, e.county_code, e.application_id, "
      "e.household_id, e.next_review_date, e.ends_on FROM enrollments e WHERE e.id = ?",
      {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(5), actor.region_code)) return Status::NotFound("救助对象记录不存在");
  const auto& e = rs->rows[0];
  if (e.Int(1) != version) return Status::VersionConflict();
  std::string status = e.Text(2), program = e.Text(3), county = e.Text(6);
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai(), now = NowIsoShanghai();
  auto bad_state = [&] { return Status(Code::kConflict, "invalid_transition", "当前状态不能执行该操作", "action"); };
  std::string to = status, ends_on = e.Text(10), next_review = e.Text(9);
  int64_t monthly = e.Int(4);
  if (action == "review" || action == "change_amount") {
    if (status != "active") return bad_state();
    auto m = r.OptInt("monthly_fen");
    if (!r.ok()) return r.status();
    if (action == "change_amount" && !m) return Status::InvalidArgument("monthly_fen", "请填写调整后的月救助金额");
    if (m && (*m < 0 || *m > 100000000)) return Status::InvalidArgument("monthly_fen", "金额无效");
    if (m) monthly = *m;
    if ((action == "change_amount" || m) && reason.empty()) return Status::InvalidArgument("reason", "请填写调整理由");
    DOUDI_ASSIGN_OR_RETURN(int64_t months, pack->IntOn(r.Bool("stable", false) ? "review.stable_months" : "review.other_months", today));
    if (action == "review") next_review = AddMonthsToDate(today, static_cast<int>(months));
  } else if (action == "suspend") {
    if (status != "active") return bad_state();
    if (reason.empty()) return Status::InvalidArgument("reason", "请填写暂停理由");
    to = "suspended";
  } else if (action == "resume") {
    if (status != "suspended") return bad_state();
    to = "active";
  } else if (action == "terminate") {
    if (status != "active" && status != "suspended") return bad_state();
    if (reason.empty()) return Status::InvalidArgument("reason", "请填写终止理由");
    bool gradual = r.Bool("gradual_exit", false);
    if (!r.ok()) return r.status();
    if (gradual && program != "dibao") return Status::InvalidArgument("gradual_exit", "只有低保可以渐退");
    if (gradual) {
      DOUDI_ASSIGN_OR_RETURN(int64_t months, pack->IntOn("dibao.gradual_exit_months", today));
      ends_on = AddDays(AddMonthsToDate(today, static_cast<int>(months)), -1);
    } else {
      // Stops from the next month (43号; 57号): paid through the end of this month.
      ends_on = AddDays(MonthAfter(today) + "-01", -1);
    }
    to = "terminated";
    App a;
    auto app = e.IsNull(7) ? Result<App>(Status::NotFound()) : LoadApp(*conn, e.Int(7), actor.region_code);
    if (app.ok()) {
      a = *app;
      NoticeInfo info = InfoOf(a);
      info.programs = {program};
      std::string html = RenderTermination(info, reason, AddDays(ends_on, 1));
      int64_t notice_id = 0;
      DOUDI_RETURN_IF_ERROR(SaveNotice(*conn, actor, a, "termination", html, &notice_id));
      auto link = conn->Execute("UPDATE notices SET enrollment_id = ? WHERE id = ?", {id, notice_id});
      if (!link.ok()) return link.status();
    }
  } else {
    return Status::InvalidArgument("action", "操作应为 review、change_amount、suspend、resume 或 terminate");
  }
  auto upd = conn->Execute(
      "UPDATE enrollments SET status = ?, monthly_fen = ?, next_review_date = ?, ends_on = ?, status_reason = ?, "
      "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
      {to, monthly, next_review.empty() ? storage::Value(nullptr) : storage::Value(next_review),
       ends_on.empty() ? storage::Value(nullptr) : storage::Value(ends_on), reason, now, id, version});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::VersionConflict();
  json after = {{"id", id}, {"status", to}, {"monthly_fen", monthly}, {"next_review_date", next_review},
                {"ends_on", ends_on.empty() ? json(nullptr) : json(ends_on)}, {"reason", reason}, {"version", version + 1},
                {"program", program}};
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"enrollment." + action, "enrollment", std::to_string(id), e.Text(5),
                                            json{{"status", status}, {"monthly_fen", e.Int(4)}}.dump(), after.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

Result<json> CaseService::AddAttachment(const auth::User& actor, int64_t application_id, const json& body) {
  if (!(Bit(actor.role) & (kTown | kVillage | kCounty))) return Status::PermissionDenied();
  FieldReader r(body, "");
  std::string kind = r.String("kind", true);
  std::string filename = r.String("filename", true);
  std::string content_type = r.String("content_type", true);
  std::string data = r.String("data_base64", true);
  if (!r.ok()) return r.status();
  if (kind != "authorization" && kind != "commitment" && kind != "other")
    return Status::InvalidArgument("kind", "材料类别应为 authorization、commitment 或 other");
  if (content_type != "image/jpeg" && content_type != "image/png" && content_type != "application/pdf")
    return Status::InvalidArgument("content_type", "只接受 JPG、PNG 或 PDF 扫描件");
  if (filename.size() > 200) return Status::InvalidArgument("filename", "文件名过长");
  std::string bytes(data.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), data.c_str(), data.size(), "\n\r ",
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 || len == 0)
    return Status::InvalidArgument("data_base64", "文件内容不是有效的 Base64 编码");
  bytes.resize(len);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, application_id, actor.region_code));
  std::string sha = audit::Sha256Hex(bytes);
  auto ins = conn->Query(
      "INSERT INTO attachments (application_id, village_code, kind, filename, content_type, size_bytes, sha256, data_base64, "
      "uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {a.id, a.village, kind, filename, content_type, static_cast<int64_t>(len), sha, data, actor.username, NowIsoShanghai()});
  if (!ins.ok()) return ins.status();
  json out = {{"id", ins->rows[0].Int(0)}, {"kind", kind}, {"filename", filename}, {"content_type", content_type},
              {"size_bytes", static_cast<int64_t>(len)}, {"sha256", sha}};
  DOUDI_RETURN_IF_ERROR(AuditApp(*conn, actor, a, "attach", a.state, a.state, {{"attachment", out}}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::string> CaseService::GetAttachment(const auth::User& actor, int64_t id, std::string* content_type) {
  // The scanned pages are part of their case: the case's access rule (as Get) and scope.
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query("SELECT content_type, data_base64, village_code, application_id FROM attachments WHERE id = ?", {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(2), actor.region_code)) return Status::NotFound("材料不存在");
  {
    auto app = LoadApp(*conn, rs->rows[0].Int(3), actor.region_code);
    if (!app.ok()) return app.status().code() == Code::kNotFound ? Status::NotFound("材料不存在") : app.status();
  }
  const std::string& data = rs->rows[0].Text(1);
  std::string bytes(data.size(), '\0');
  size_t len = 0;
  sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), data.c_str(), data.size(), "\n\r ", &len,
                    nullptr, sodium_base64_VARIANT_ORIGINAL);
  bytes.resize(len);
  DOUDI_RETURN_IF_ERROR(audit::RecordRead(*conn, actor.actor(), "attachment", std::to_string(id), rs->rows[0].Text(2)));
  *content_type = rs->rows[0].Text(0);
  return bytes;
}

Result<json> CaseService::ListVerificationRequests(const auth::User& actor, Page page, const std::string& direction) {
  if (!(Bit(actor.role) & (kCounty | kTown))) return Status::PermissionDenied();
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
  auto count = conn->Query("SELECT COUNT(*)" + from, params);
  if (!count.ok()) return count.status();
  params.push_back(page.page_size);
  params.push_back((page.page - 1) * page.page_size);
  auto rs = conn->Query(
      "SELECT v.id, v.application_id, v.from_county, v.to_county, v.citizen_id, v.applicant_name, v.status, v.answer, "
      "v.created_at, v.answered_at, v.subject, a.case_no" + from + " ORDER BY v.id DESC LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"application_id", r.Int(1)}, {"from_county", r.Text(2)}, {"to_county", r.Text(3)},
                     {"direction", r.Text(3) == county ? "incoming" : "outgoing"},
                     {"citizen_id", r.Text(4)}, {"applicant_name", r.Text(5)}, {"status", r.Text(6)},
                     {"answer", r.Text(7)}, {"created_at", r.Text(8)}, {"answered_at", r.Text(9)},
                     {"subject", r.Text(10)}, {"case_no", r.Text(11)}});
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "verification_request_list", items, page));
  return PageJson(std::move(items), total, page);
}

Result<json> CaseService::AnswerVerificationRequest(const auth::User& actor, int64_t id, const json& body) {
  if (!(Bit(actor.role) & kCounty)) return Status::PermissionDenied("只有户籍地县级民政部门可以答复协查");
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

// ------------------------------------------------------------------------------------------
// Emergency help (act first) and reserve funds

namespace {
constexpr const char* kEmergencyColumns =
    "e.id, e.version, e.town_code, t.name, e.person_name, e.citizen_id, e.kind, e.loss_fen, e.amount_fen, e.state, "
    "e.approver, e.paid_at, e.paperwork_completed, e.case_conference, e.hukou_division, e.description, e.created_at, "
    "e.decision_note";
json EmergencyJson(const storage::Row& r) {
  return {{"id", r.Int(0)}, {"version", r.Int(1)}, {"town_code", r.Text(2)}, {"town_name", r.Text(3)},
          {"person_name", r.Text(4)}, {"citizen_id_masked", MaskCitizenId(r.Text(5))}, {"kind", r.Text(6)},
          {"loss_fen", r.Int(7)}, {"amount_fen", r.Int(8)}, {"state", r.Text(9)},
          {"approver", r.IsNull(10) ? json(nullptr) : json(r.Text(10))},
          {"paid_at", r.IsNull(11) ? json(nullptr) : json(r.Text(11))}, {"paperwork_completed", r.Bool(12)},
          {"case_conference", ParseOr(r.Text(13), nullptr)}, {"hukou_division", r.Text(14)},
          {"description", r.Text(15)}, {"created_at", r.Text(16)},
          {"decision_note", r.IsNull(17) ? json(nullptr) : json(r.Text(17))}};
}
// Emergency aid belongs to a town (the person may have no household in the registry): town
// and county staff see their towns' records; a village assistant only those of a person whose
// hukou is in the village or linked to a household of the village.
std::string EmergencyScope(const std::string& scope, Params* params) {
  if (LevelOfCode(scope) == RegionLevel::kVillage) {
    params->push_back(scope);
    params->push_back(scope);
    return "(e.hukou_division = ? OR e.household_id IN (SELECT id FROM households WHERE village_code = ?))";
  }
  params->push_back(scope + "%");
  return "e.town_code LIKE ?";
}
Result<json> LoadEmergency(Connection& conn, int64_t id, const std::string& scope) {
  Params params{id};
  const std::string in_scope = EmergencyScope(scope, &params);
  auto rs = conn.Query(std::string("SELECT ") + kEmergencyColumns +
                           " FROM emergency_aid e JOIN regions t ON t.code = e.town_code WHERE e.id = ? AND " + in_scope,
                       params);
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("急难救助记录不存在");
  return EmergencyJson(rs->rows[0]);
}
Status PayFromReserve(Connection& conn, const auth::User& actor, const std::string& town, int64_t amount,
                      int64_t aid_id) {
  auto upd = conn.Execute("UPDATE reserve_funds SET balance_fen = balance_fen - ? WHERE town_code = ? AND balance_fen >= ?",
                          {amount, town, amount});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::FailedPrecondition("镇（街道）临时救助储备金余额不足，请报县级审批", "amount_fen");
  auto mv = conn.Execute(
      "INSERT INTO reserve_movements (town_code, amount_fen, reason, emergency_aid_id, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
      {town, -amount, std::string("急难型临时救助先行支付"), aid_id, actor.username, NowIsoShanghai()});
  return mv.ok() ? Status::Ok() : mv.status();
}
}  // namespace

Result<json> CaseService::CreateEmergency(const auth::User& actor, const json& body) {
  if (!(Bit(actor.role) & (kTown | kCounty))) return Status::PermissionDenied("只有镇街和县级人员可以登记急难救助");
  FieldReader r(body, "");
  std::string town = r.String("town_code", false, LevelOfCode(actor.region_code) == RegionLevel::kTown ? actor.region_code : "");
  std::string name = r.String("person_name", true);
  std::string cid = r.String("citizen_id", true);
  std::string hukou = r.String("hukou_division", true);
  std::string kind = r.String("kind", true);
  int64_t loss = r.Fen("loss_fen", true);
  int64_t amount = r.Fen("amount_fen", true);
  std::string description = r.String("description", false);
  auto household = r.OptInt("household_id");
  if (!r.ok()) return r.status();
  if (LevelOfCode(town) != RegionLevel::kTown || !CodeWithin(town, actor.region_code))
    return Status::InvalidArgument("town_code", "请选择本辖区的镇（街道）");
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (LevelOfCode(hukou) != RegionLevel::kCounty && LevelOfCode(hukou) != RegionLevel::kVillage)
    return Status::InvalidArgument("hukou_division", "户籍区划代码应为6位或12位");
  static const std::set<std::string> kKinds = {"accident", "fire", "illness", "disaster", "other"};
  if (!kKinds.count(kind)) return Status::InvalidArgument("kind", "急难类型无效");
  if (amount <= 0) return Status::InvalidArgument("amount_fen", "救助金额应大于0");
  if (name.size() > 60) return Status::InvalidArgument("person_name", "姓名过长");
  if (description.size() > 2000) return Status::InvalidArgument("description", "情况说明过长");
  std::string county = town.substr(0, 6);
  if (household) DOUDI_RETURN_IF_ERROR(registry_.GetHousehold(actor, *household).status());
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t ceiling, pack->IntOn("temporary.town_ceiling_fen", today));
  bool town_pays = amount <= ceiling;
  std::string now = NowIsoShanghai();

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto ins = conn->Query(
      "INSERT INTO emergency_aid (county_code, town_code, household_id, person_name, citizen_id, hukou_division, kind, "
      "loss_fen, amount_fen, description, state, approver, paid_at, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {county, town, household ? storage::Value(*household) : storage::Value(nullptr), name, id->normalized, hukou, kind,
       loss, amount, description, std::string(town_pays ? "paid" : "awaiting_county"),
       town_pays ? storage::Value(std::string("town")) : storage::Value(nullptr),
       town_pays ? storage::Value(now) : storage::Value(nullptr), actor.username, now, now});
  if (!ins.ok()) return ins.status();
  int64_t aid = ins->rows[0].Int(0);
  if (town_pays) DOUDI_RETURN_IF_ERROR(PayFromReserve(*conn, actor, town, amount, aid));
  DOUDI_ASSIGN_OR_RETURN(json out, LoadEmergency(*conn, aid, actor.region_code));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"emergency_aid.create", "emergency_aid", std::to_string(aid), town, "null",
                                            json{{"amount_fen", amount}, {"state", out["state"]}, {"ceiling_fen", ceiling},
                                                 {"kind", kind}, {"citizen_id", id->normalized}}
                                                .dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<json> CaseService::ListEmergency(const auth::User& actor, Page page) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  Params params;
  const std::string in_scope = EmergencyScope(actor.region_code, &params);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM emergency_aid e WHERE " + in_scope, params);
  if (!count.ok()) return count.status();
  params.push_back(page.page_size);
  params.push_back((page.page - 1) * page.page_size);
  auto rs = conn->Query(std::string("SELECT ") + kEmergencyColumns +
                            " FROM emergency_aid e JOIN regions t ON t.code = e.town_code WHERE " + in_scope +
                            " ORDER BY e.id DESC LIMIT ? OFFSET ?",
                        params);
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) items.push_back(EmergencyJson(r));
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "emergency_aid_list", items, page));
  return PageJson(std::move(items), total, page);
}

Result<json> CaseService::ActEmergency(const auth::User& actor, int64_t id, const json& body) {
  // A role that may not read the records (the department liaison) learns nothing about one: 403
  // for any id. The checks below refine who may take each action.
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  std::string note = r.String("note", false);
  if (!r.ok()) return r.status();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(json aid, LoadEmergency(*conn, id, actor.region_code));
  if (aid["version"].get<int64_t>() != version) return Status::VersionConflict();
  std::string state = aid["state"];
  std::string now = NowIsoShanghai();
  const bool county_actor = Bit(actor.role) & kCounty;
  std::string sql;
  Params params;
  if (action == "approve_county" || action == "reject") {
    if (!county_actor) return Status::PermissionDenied("超过镇街审批权限的急难救助须由县级民政部门审批");
    if (state != "awaiting_county") return Status(Code::kConflict, "invalid_transition", "该记录当前不能审批", "action");
    if (action == "reject" && note.empty()) return Status::InvalidArgument("note", "请填写不予救助的理由");
    if (note.size() > 2000) return Status::InvalidArgument("note", "内容过长");
    sql = action == "approve_county"
              ? "UPDATE emergency_aid SET state = 'paid', approver = 'county', paid_at = ?, decision_note = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ?"
              : "UPDATE emergency_aid SET state = 'rejected', approver = 'county', decision_note = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ?";
    params = action == "approve_county" ? Params{now, note, now, id} : Params{note, now, id};
  } else if (action == "case_conference") {
    if (!county_actor && actor.role != Role::kTownReviewer)
      return Status::PermissionDenied("一事一议须由县级或镇街审核人员记录");
    if (state != "awaiting_county") return Status(Code::kConflict, "invalid_transition", "该记录当前不能一事一议", "action");
    std::vector<std::string> members;
    if (const json* arr = r.Array("members", true))
      for (const auto& m : *arr)
        if (m.is_string() && !m.get<std::string>().empty()) members.push_back(m.get<std::string>());
    std::string decision = r.String("decision", true);
    if (!r.ok()) return r.status();
    if (members.size() < 3) return Status::InvalidArgument("members", "一事一议须记录至少3名参会人员");
    if (decision != "approve" && decision != "reject") return Status::InvalidArgument("decision", "决定应为 approve 或 reject");
    json conference = {{"members", members}, {"decision", decision}, {"note", note}, {"recorded_by", actor.username},
                       {"at", now}};
    sql = std::string("UPDATE emergency_aid SET state = ?, approver = 'case_conference', paid_at = ?, case_conference = ?, ") +
          "updated_at = ?, version = version + 1 WHERE id = ?";
    params = {std::string(decision == "approve" ? "paid" : "rejected"),
              decision == "approve" ? storage::Value(now) : storage::Value(nullptr), conference.dump(), now, id};
  } else if (action == "complete_paperwork") {
    if (!(Bit(actor.role) & kTown) && !county_actor) return Status::PermissionDenied();
    if (state != "paid" || aid["paperwork_completed"].get<bool>())
      return Status(Code::kConflict, "invalid_transition", "该记录当前不需要补办手续", "action");
    sql = "UPDATE emergency_aid SET paperwork_completed = 1, updated_at = ?, version = version + 1 WHERE id = ?";
    params = {now, id};
  } else {
    return Status::InvalidArgument("action", "操作应为 approve_county、reject、case_conference 或 complete_paperwork");
  }
  auto upd = conn->Execute(sql, params);
  if (!upd.ok()) return upd.status();
  DOUDI_ASSIGN_OR_RETURN(json after, LoadEmergency(*conn, id, actor.region_code));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"emergency_aid." + action, "emergency_aid", std::to_string(id),
                                            aid["town_code"], aid.dump(), after.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

Result<json> CaseService::ReserveFunds(const auth::User& actor) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t per_resident, pack->IntOn("reserve_fund.per_resident_min_fen", today));
  DOUDI_ASSIGN_OR_RETURN(int64_t per_town, pack->IntOn("reserve_fund.per_town_fen", today));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT t.code, t.name, t.population, COALESCE(f.balance_fen, 0) FROM regions t "
      "LEFT JOIN reserve_funds f ON f.town_code = t.code WHERE t.parent_code = ? ORDER BY t.code",
      {county});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) {
    if (!CodeWithin(r.Text(0), actor.region_code) && !CodeWithin(actor.region_code, r.Text(0))) continue;
    int64_t required = std::max(per_resident * r.Int(2), per_town);
    items.push_back({{"town_code", r.Text(0)}, {"town_name", r.Text(1)}, {"population", r.Int(2)},
                     {"balance_fen", r.Int(3)}, {"required_fen", required}});
  }
  return json{{"items", items}};
}

Result<json> CaseService::Deposit(const auth::User& actor, const std::string& town, const json& body) {
  if (actor.role != Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以拨付储备金");
  FieldReader r(body, "");
  int64_t amount = r.Fen("amount_fen", true);
  std::string note = r.String("note", true);
  if (!r.ok()) return r.status();
  if (amount <= 0) return Status::InvalidArgument("amount_fen", "金额应大于0");
  if (LevelOfCode(town) != RegionLevel::kTown || !CodeWithin(town, actor.region_code)) return Status::NotFound("镇（街道）不存在");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto known = conn->Query("SELECT 1 FROM regions WHERE code = ? AND level = 'town'", {town});
  if (!known.ok()) return known.status();
  if (known->empty()) return Status::NotFound("镇（街道）不存在");  // a well-formed code of no town
  auto up = conn->Execute(
      "INSERT INTO reserve_funds (town_code, county_code, balance_fen) VALUES (?, ?, ?) "
      "ON CONFLICT (town_code) DO UPDATE SET balance_fen = reserve_funds.balance_fen + excluded.balance_fen",
      {town, town.substr(0, 6), amount});
  if (!up.ok()) return up.status();
  auto mv = conn->Execute("INSERT INTO reserve_movements (town_code, amount_fen, reason, actor, at) VALUES (?, ?, ?, ?, ?)",
                          {town, amount, note, actor.username, NowIsoShanghai()});
  if (!mv.ok()) return mv.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"reserve_fund.deposit", "reserve_fund", town, town, "null",
                                            json{{"amount_fen", amount}, {"note", note}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return ReserveFunds(actor);
}

Status CaseService::SeedReserveFunds(Connection& conn, const std::string& county) {
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t per_resident, pack->IntOn("reserve_fund.per_resident_min_fen", today));
  DOUDI_ASSIGN_OR_RETURN(int64_t per_town, pack->IntOn("reserve_fund.per_town_fen", today));
  auto rs = conn.Query("SELECT code, population FROM regions WHERE parent_code = ?", {county});
  if (!rs.ok()) return rs.status();
  for (const auto& r : rs->rows) {
    int64_t required = std::max({per_resident * r.Int(1), per_town, int64_t{2000000}});
    auto ins = conn.Execute(
        "INSERT INTO reserve_funds (town_code, county_code, balance_fen) VALUES (?, ?, ?) ON CONFLICT (town_code) DO NOTHING",
        {r.Text(0), county, required});
    if (!ins.ok()) return ins.status();
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------------------
// Credit lists and relatives of staff (county level)

namespace {
Status RequireCounty(const auth::User& actor) {
  return (Bit(actor.role) & kCounty) ? Status::Ok() : Status::PermissionDenied("只有县级民政人员可以维护该名单");
}
}  // namespace

Result<json> CaseService::ListCredit(const auth::User& actor, Page page) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  std::string county = actor.region_code.substr(0, 6);
  auto count = conn->Query("SELECT COUNT(*) FROM credit_entries WHERE county_code = ?", {county});
  if (!count.ok()) return count.status();
  auto rs = conn->Query(
      "SELECT id, citizen_id, name, list, reason, owed_fen, repaid_at, created_at FROM credit_entries "
      "WHERE county_code = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      {county, page.page_size, (page.page - 1) * page.page_size});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"citizen_id", r.Text(1)}, {"name", r.Text(2)}, {"list", r.Text(3)},
                     {"reason", r.Text(4)}, {"owed_fen", r.Int(5)},
                     {"repaid_at", r.IsNull(6) ? json(nullptr) : json(r.Text(6))}, {"created_at", r.Text(7)}});
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "credit_list", items, page));
  return PageJson(std::move(items), total, page);
}

Result<json> CaseService::AddCredit(const auth::User& actor, const json& body) {
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

Result<json> CaseService::Repay(const auth::User& actor, int64_t id) {
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

Result<json> CaseService::ListRelatives(const auth::User& actor, Page page) {
  DOUDI_RETURN_IF_ERROR(RequireCounty(actor));
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM staff_relatives WHERE county_code = ?", {county});
  if (!count.ok()) return count.status();
  auto rs = conn->Query(
      "SELECT id, citizen_id, name, staff_name, relation, created_at FROM staff_relatives WHERE county_code = ? "
      "ORDER BY id DESC LIMIT ? OFFSET ?",
      {county, page.page_size, (page.page - 1) * page.page_size});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"citizen_id", r.Text(1)}, {"name", r.Text(2)}, {"staff_name", r.Text(3)},
                     {"relation", r.Text(4)}, {"created_at", r.Text(5)}});
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  DOUDI_RETURN_IF_ERROR(LogListRead(registry_, actor, "staff_relative_list", items, page));
  return PageJson(std::move(items), total, page);
}

Result<json> CaseService::AddRelative(const auth::User& actor, const json& body) {
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

// ------------------------------------------------------------------------------------------
// Calendar

Result<json> CaseService::Holidays(const auth::User& actor, const std::string& year) {
  if (year.size() != 4 || year.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument("year", "年份应为4位数字");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  // The State Council's days with the user's county's own changes over them.
  auto rs = conn->Query("SELECT day, kind, name FROM holidays WHERE day >= ? AND day <= ? ORDER BY day",
                        {year + "-01-01", year + "-12-31"});
  if (!rs.ok()) return rs.status();
  auto own = conn->Query("SELECT day, kind, name FROM county_holidays WHERE county_code = ? AND day >= ? AND day <= ?",
                         {CountyOf(actor), year + "-01-01", year + "-12-31"});
  if (!own.ok()) return own.status();
  std::map<std::string, std::pair<std::string, std::string>> days;
  for (const auto& r : rs->rows) days[r.Text(0)] = {r.Text(1), r.Text(2)};
  for (const auto& r : own->rows) {
    if (r.Text(1) == "none") days.erase(r.Text(0));
    else days[r.Text(0)] = {r.Text(1), r.Text(2)};
  }
  json items = json::array();
  for (const auto& [day, v] : days) items.push_back({{"day", day}, {"kind", v.first}, {"name", v.second}});
  return json{{"items", items}};
}

// A county admin's edit is the county's own (county_holidays); the State Council's calendar
// (holidays, the reference data) is never changed through the API.
Result<json> CaseService::SetHoliday(const auth::User& actor, const std::string& day, const json& body) {
  if (actor.role != Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以维护节假日");
  int y, m, d;
  if (!ParseDate(day, &y, &m, &d)) return Status::InvalidArgument("day", "日期应为 YYYY-MM-DD");
  FieldReader r(body, "");
  std::string kind = r.String("kind", true);
  std::string name = r.String("name", true);
  if (!r.ok()) return r.status();
  if (kind != "holiday" && kind != "workday") return Status::InvalidArgument("kind", "类型应为 holiday 或 workday");
  if (name.size() > 100) return Status::InvalidArgument("name", "名称过长");
  const std::string county = CountyOf(actor);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto up = conn->Execute(
      "INSERT INTO county_holidays (county_code, day, kind, name) VALUES (?, ?, ?, ?) ON CONFLICT (county_code, day) "
      "DO UPDATE SET kind = excluded.kind, name = excluded.name",
      {county, day, kind, name});
  if (!up.ok()) return up.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"holiday.set", "holiday", day, county, "null",
                                            json{{"kind", kind}, {"name", name}, {"county", county}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  InvalidateCalendar(county);
  return json{{"day", day}, {"kind", kind}, {"name", name}};
}

// Makes the day an ordinary one for the admin's county: its own entry goes; a State Council
// day is overridden for this county only ('none'). 404 when the county's calendar has no entry.
Result<json> CaseService::DeleteHoliday(const auth::User& actor, const std::string& day) {
  if (actor.role != Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以维护节假日");
  int y, m, d;
  if (!ParseDate(day, &y, &m, &d)) return Status::NotFound("该日期不在节假日表中");
  const std::string county = CountyOf(actor);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto ref = conn->Query("SELECT 1 FROM holidays WHERE day = ?", {day});
  if (!ref.ok()) return ref.status();
  auto own = conn->Query("SELECT kind FROM county_holidays WHERE county_code = ? AND day = ?", {county, day});
  if (!own.ok()) return own.status();
  const bool in_reference = !ref->empty();
  const bool listed = own->empty() ? in_reference : own->rows[0].Text(0) != "none";
  if (!listed) return Status::NotFound("该日期不在节假日表中");
  auto w = in_reference
               ? conn->Execute("INSERT INTO county_holidays (county_code, day, kind, name) VALUES (?, ?, 'none', '') "
                               "ON CONFLICT (county_code, day) DO UPDATE SET kind = 'none', name = ''",
                               {county, day})
               : conn->Execute("DELETE FROM county_holidays WHERE county_code = ? AND day = ?", {county, day});
  if (!w.ok()) return w.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"holiday.delete", "holiday", day, county, "null",
                                            json{{"county", county}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  InvalidateCalendar(county);
  return json{{"day", day}, {"deleted", true}};
}

Result<json> CaseService::WorkingDays(const auth::User& actor, const std::string& from, const std::string& days) {
  int y, m, d;
  if (!ParseDate(from, &y, &m, &d)) return Status::InvalidArgument("from", "日期应为 YYYY-MM-DD");
  if (days.empty() || days.size() > 3 || days.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument("days", "工作日数应为0到999的整数");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto cal, Calendar(*conn, CountyOf(actor)));
  int n = std::stoi(days);
  return json{{"from", from}, {"days", n}, {"due", cal->AddWorkingDays(from, n)}};
}

// ------------------------------------------------------------------------------------------
// Public pages (no login)

Result<json> CaseService::PublicSubmit(const json& body) {
  FieldReader r(body, "");
  std::string name = r.String("name", true);
  std::string cid = r.String("citizen_id", true);
  std::string phone = r.String("phone", true);
  std::string village = r.String("village_code", true);
  std::string area = r.String("area", false, "rural");
  std::string description = r.String("description", false);
  std::vector<std::string> programs;
  if (const json* p = r.Array("programs", false)) {
    for (size_t i = 0; i < p->size(); ++i) {
      if (!(*p)[i].is_string() || std::find(kPrograms.begin(), kPrograms.end(), (*p)[i].get<std::string>()) == kPrograms.end())
        return Status::InvalidArgument("programs[" + std::to_string(i) + "]", "救助类别无效");
      programs.push_back((*p)[i].get<std::string>());
    }
  }
  if (!r.ok()) return r.status();
  if (programs.empty()) programs = kPrograms;
  if (name.empty() || name.size() > 60) return Status::InvalidArgument("name", "请填写姓名");
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (phone.size() < 7 || phone.size() > 20 || phone.find_first_not_of("0123456789-+ ") != std::string::npos)
    return Status::InvalidArgument("phone", "请填写有效的联系电话");
  if (area != "urban" && area != "rural") return Status::InvalidArgument("area", "城乡类别应为 urban 或 rural");
  if (description.size() > 2000) return Status::InvalidArgument("description", "情况说明过长");
  if (LevelOfCode(village) != RegionLevel::kVillage) return Status::InvalidArgument("village_code", "请选择村（社区）");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto reg = conn->Query("SELECT parent_code FROM regions WHERE code = ? AND level = 'village'", {village});
  if (!reg.ok()) return reg.status();
  if (reg->empty()) return Status::InvalidArgument("village_code", "村（社区）区划代码不存在");
  std::string town = reg->rows[0].Text(0), county = village.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(bool relative, IsStaffRelative(*conn, county, {id->normalized}));
  std::string now = NowIsoShanghai();
  auto ins = conn->Query(
      "INSERT INTO applications (case_no, county_code, town_code, village_code, channel, programs, state, applicant_name, "
      "applicant_citizen_id, applicant_phone, authorization_signed, commitment_signed, staff_relative, received_at, "
      "description, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, 'online', ?, 'received', ?, ?, ?, 1, 1, ?, ?, ?, 'online', ?, ?) RETURNING id",
      {"tmp-" + auth::RandomToken(), county, town, village, JoinList(programs), name, id->normalized, phone,
       int64_t{relative}, now, description + (area == "urban" ? "（城镇）" : "（农村）"), now, now});
  if (!ins.ok()) return ins.status();
  int64_t app_id = ins->rows[0].Int(0);
  DOUDI_ASSIGN_OR_RETURN(std::string case_no, AssignCaseNo(*conn, app_id, county, now));
  auth::User online;
  online.username = "online";
  App a;
  a.id = app_id;
  a.village = village;
  a.version = 1;
  DOUDI_RETURN_IF_ERROR(AuditApp(*conn, online, a, "submit", "", "received", {{"channel", "online"}, {"programs", programs}}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return json{{"case_no", case_no}};
}

Result<json> CaseService::PublicProgress(const std::string& case_no, const std::string& citizen_id,
                                         const std::string& phone_last4) {
  // One answer for every miss (no such case, wrong id, wrong phone digits): the lookup tells
  // nothing about which part was wrong. The phone is not on the public notice, which shows
  // the id's first 6 and last 4 characters (the 8 between them are a birth date, few enough
  // to guess); the caller limits failed tries (api_cases.cc).
  const Status miss = Status::NotFound("没有找到该申请，请核对案号、身份证号和联系电话后四位");
  auto id = ParseCitizenId(citizen_id);
  if (!id.ok() || phone_last4.size() != 4 || phone_last4.find_first_not_of("0123456789") != std::string::npos)
    return miss;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT id, state, received_at, due_date, applicant_citizen_id, applicant_phone FROM applications "
      "WHERE case_no = ?",
      {case_no});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return miss;
  std::string digits;
  for (char ch : rs->rows[0].Text(5))
    if (ch >= '0' && ch <= '9') digits += ch;
  // An application without a phone of at least four digits cannot be looked up online.
  bool id_ok = rs->rows[0].Text(4) == id->normalized;
  bool phone_ok = digits.size() >= 4 && digits.compare(digits.size() - 4, 4, phone_last4) == 0;
  if (!id_ok || !phone_ok) return miss;
  const auto& r = rs->rows[0];
  auto ev = conn->Query("SELECT at, after_json FROM audit_log WHERE entity = 'application' AND entity_id = ? ORDER BY id",
                        {r.Text(0)});
  if (!ev.ok()) return ev.status();
  json steps = json::array();
  for (const auto& e : ev->rows) {
    json after = ParseOr(e.Text(1), json::object());
    std::string to = after.value("to", "");
    if (to.empty() || after.value("from", "") == to) continue;
    steps.push_back({{"at", e.Text(0)}, {"label", kStateLabels.count(to) ? kStateLabels.at(to) : to}});
  }
  std::string state = r.Text(1);
  return json{{"case_no", case_no}, {"state", state}, {"state_label", kStateLabels.count(state) ? kStateLabels.at(state) : state},
              {"received_at", r.Text(2)}, {"due_date", r.IsNull(3) ? json(nullptr) : json(r.Text(3))}, {"steps", steps}};
}

Result<json> CaseService::PublicNotices(const std::string& village) {
  if (LevelOfCode(village) != RegionLevel::kVillage) return Status::InvalidArgument("village", "请选择村（社区）");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT a.case_no, a.applicant_name, a.applicant_citizen_id, a.programs, a.determinations, a.notice_ends, "
      "(SELECT COUNT(*) FROM persons p WHERE p.household_id = a.household_id), v.name "
      "FROM applications a JOIN regions v ON v.code = a.village_code "
      "WHERE a.village_code = ? AND a.state = 'public_notice' ORDER BY a.id",
      {village});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) {
    json det = ParseOr(r.Text(4), json::object());
    int64_t monthly = 0;
    if (det.contains("dibao") && det["dibao"].value("eligible", false)) monthly += det["dibao"].value("monthly_fen", int64_t{0});
    if (det.contains("tekun") && det["tekun"].value("eligible", false)) monthly += det["tekun"].value("monthly_fen", int64_t{0});
    // Only what the rules allow to be published: name, household size, amount (57号 第二十四条).
    items.push_back({{"case_no", r.Text(0)}, {"name", r.Text(1)}, {"citizen_id_masked", MaskCitizenId(r.Text(2))},
                     {"programs", SplitList(r.Text(3))}, {"monthly_fen", monthly}, {"notice_ends", r.Text(5)},
                     {"household_size", r.Int(6)}, {"village_name", r.Text(7)}});
  }
  return json{{"items", items}};
}

}  // namespace doudi::cases

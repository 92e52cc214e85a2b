// Applications: registration (window, assistant, discovery), the list, and the dispatcher of the
// transition table. Reads of a case are in read.cc; the actions in actions.cc and decision.cc.
#include <algorithm>

#include "applications/applications.h"
#include "applications/transitions.h"
#include "audit/audit_log.h"
#include "auth/roles.h"
#include "calendar/service.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/lists.h"
#include "credit/credit.h"
#include "registry/list_read.h"
#include "storage/idempotency.h"

namespace doudi::applications {
namespace {

using nlohmann::json;
using auth::Role;
using storage::Connection;
using storage::Params;

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
  DOUDI_ASSIGN_OR_RETURN(bool relative, credit::IsStaffRelative(conn, h.county_code, ids));
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

// The fields of a staff member's registration.
struct CreateRequest {
  int64_t household_id = 0, applicant_person = 0;
  std::string channel, note, hukou_county, subject;
  std::vector<std::string> programs;
};

Result<CreateRequest> ReadCreate(const auth::User& actor, const json& body) {
  FieldReader r(body, "");
  CreateRequest q;
  q.household_id = r.Int("household_id", true);
  q.channel = r.String("channel", false, actor.role == Role::kVillageAssistant ? "assistant" : "window");
  q.applicant_person = r.Int("applicant_person_id", false);
  bool authorization = r.Bool("authorization", false);
  bool commitment = r.Bool("commitment", false);
  q.note = r.String("note", false);
  q.hukou_county = r.String("hukou_county", false);
  q.subject = r.String("verification_subject", false);
  DOUDI_ASSIGN_OR_RETURN(q.programs, ReadPrograms(r));
  if (!r.ok()) return r.status();
  if (q.programs.empty()) q.programs = Programs();
  if (q.channel != "window" && q.channel != "assistant" && q.channel != "hotline" && q.channel != "discovery")
    return Status::InvalidArgument("channel", "申请渠道应为 window、assistant、hotline 或 discovery");
  if (q.note.size() > 2000) return Status::InvalidArgument("note", "备注过长");
  if (!q.hukou_county.empty() && LevelOfCode(q.hukou_county) != RegionLevel::kCounty)
    return Status::InvalidArgument("hukou_county", "户籍所在县应为6位区划代码");
  if (q.subject.size() > 1000) return Status::InvalidArgument("verification_subject", "协查事项过长");
  if (q.subject.empty()) q.subject = "户籍、家庭成员及经济状况";
  if (!authorization) return Status::InvalidArgument("authorization", "须签署家庭经济状况核对授权书");
  if (!commitment) return Status::InvalidArgument("commitment", "须签署诚信承诺书");
  return q;
}

// A residence-permit application (人户分离, 57号 第五条): the hukou county verifies.
Status RequestHukouVerification(Connection& conn, int64_t id, const registry::Household& h,
                                const registry::Person& applicant, const CreateRequest& q) {
  auto upd = conn.Execute("UPDATE applications SET hukou_county = ? WHERE id = ?", {q.hukou_county, id});
  if (!upd.ok()) return upd.status();
  if (q.hukou_county.empty() || q.hukou_county == h.county_code) return Status::Ok();
  auto vr = conn.Execute(
      "INSERT INTO verification_requests (application_id, from_county, to_county, citizen_id, applicant_name, status, "
      "created_at, subject) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
      {id, h.county_code, q.hukou_county, applicant.citizen_id, applicant.name, NowIsoShanghai(), q.subject});
  return vr.ok() ? Status::Ok() : vr.status();
}

}  // namespace

// The writes below commit in their own scope and return the application's id; the public
// calls read it back after the scope ends (GetAfterWrite), so the connection is returned to
// the pool before another is borrowed for the read.
Result<json> ApplicationService::Create(const auth::User& actor, const json& body) {
  audit::DeferCommits synchronous(nullptr);  // see GetAfterWrite
  DOUDI_ASSIGN_OR_RETURN(int64_t id, CreateCommit(actor, body));
  return GetAfterWrite(actor, id);
}

Result<int64_t> ApplicationService::CreateCommit(const auth::User& actor, const json& body) {
  if (!auth::RoleIn(actor.role, auth::kTownRoles | auth::kVillageRoles))
    return Status::PermissionDenied("只有镇街窗口和村协理员可以登记申请");
  DOUDI_ASSIGN_OR_RETURN(CreateRequest q, ReadCreate(actor, body));
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, q.household_id));
  const registry::Person* applicant = nullptr;
  for (const auto& m : h.members)
    if ((q.applicant_person && m.id == q.applicant_person) || (!q.applicant_person && m.relation == "head")) applicant = &m;
  if (!applicant) return Status::InvalidArgument("applicant_person_id", "申请人须为该家庭成员");
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(h.county_code));
  const bool delegated = TownConfirms(*pack, TodayShanghai());

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  DOUDI_ASSIGN_OR_RETURN(int64_t id,
                         InsertCase(*conn, actor, {&h, applicant, q.channel, q.programs, true, delegated, q.note}));
  DOUDI_RETURN_IF_ERROR(RequestHukouVerification(*conn, id, h, *applicant, q));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<int64_t> ApplicationService::CreateDiscovery(const auth::User& actor, int64_t household_id, const std::string& note,
                                                    const std::function<Status(Connection&)>& first,
                                                    const std::function<Status(Connection&, int64_t)>& also) {
  // The household's read is logged before the write (a failure stops it; see GetAfterWrite).
  audit::DeferCommits synchronous(nullptr);
  if (!auth::RoleIn(actor.role, auth::kTownRoles | auth::kVillageRoles | auth::kCountyRoles))
    return Status::PermissionDenied();
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
  DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertCase(*conn, actor, {&h, head, "discovery", Programs(), false, delegated, note}));
  if (also) DOUDI_RETURN_IF_ERROR(also(*conn, id));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<json> ApplicationService::List(const auth::User& actor, const std::string& state, const std::string& q,
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
  std::string order = sort == "new" ? " ORDER BY a.id DESC"
                                    : " ORDER BY CASE WHEN a.due_date IS NULL THEN 1 ELSE 0 END, a.due_date, a.id";
  DOUDI_ASSIGN_OR_RETURN(auto page_rows, registry::QueryPage(*conn, "SELECT COUNT(*) FROM applications a" + where,
      SelectApps() + where + order, params, page));
  DOUDI_ASSIGN_OR_RETURN(auto cal, calendar::ForCounty(*conn, actor.region_code.substr(0, 6)));
  json items = json::array();
  for (const auto& row : page_rows.rows.rows) items.push_back(AppSummary(AppFromRow(row), *cal));
  return registry::LoggedPage(std::move(conn), registry_, actor, "application_list", std::move(items), page_rows.total, page);
}

Result<json> ApplicationService::Act(const auth::User& actor, int64_t id, const json& body) {
  audit::DeferCommits synchronous(nullptr);  // see GetAfterWrite
  DOUDI_RETURN_IF_ERROR(ActCommit(actor, id, body).status());
  return GetAfterWrite(actor, id);
}

// The dispatcher: what every action shares (transitions.h); the row's functions do the rest.
Result<int64_t> ApplicationService::ActCommit(const auth::User& actor, int64_t id, const json& body) {
  DOUDI_RETURN_IF_ERROR(MayReadCases(actor));  // a liaison learns nothing about a case (403 for any id)
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  if (!r.ok()) return r.status();
  const Transition* t = FindTransition(action);
  if (!t) return Status::InvalidArgument("action", "未知的办理操作：" + action);

  App pre;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(pre, LoadApp(*conn, id, actor.region_code));
  }
  if (!AllowedFrom(*t, pre.state)) return InvalidTransition(action, pre.state);
  DOUDI_RETURN_IF_ERROR(MayAct(actor, pre, *t));
  if (pre.version != version) return Status::VersionConflict();
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(pre.county));
  Prepared prepared;
  if (t->prepare) {
    PrepareContext pc{actor, r, pre, registry_, policy_, prepared};
    DOUDI_RETURN_IF_ERROR(t->prepare(pc));
  }

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(App a, LoadApp(*conn, id, actor.region_code));
  if (a.version != version) return Status::VersionConflict();
  DOUDI_ASSIGN_OR_RETURN(auto cal, calendar::ForCounty(*conn, a.county));
  ActionContext c(actor, r, *conn, a, *pack, *cal, prepared, t->to ? t->to : a.state);
  DOUDI_RETURN_IF_ERROR(t->apply(c));
  if (!r.ok()) return r.status();
  DOUDI_RETURN_IF_ERROR(c.Update(version));
  DOUDI_RETURN_IF_ERROR(AuditApp(*conn, actor, a, action, a.state, c.to, c.details));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return id;
}

}  // namespace doudi::applications

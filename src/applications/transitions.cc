#include "applications/transitions.h"

#include <algorithm>

#include "auth/roles.h"
#include "common/date.h"

namespace doudi::applications {
namespace {

using auth::Role;
using auth::RoleBit;
using nlohmann::json;

constexpr uint32_t kTown = auth::kTownRoles;
constexpr uint32_t kCounty = auth::kCountyRoles;
constexpr uint32_t kVillage = auth::kVillageRoles;
constexpr uint32_t kTownReviewer = RoleBit(Role::kTownReviewer);

const std::vector<Transition> kTransitions = {
    {"link_household", {"received", "documents_requested"}, nullptr, kTown, LinkHousehold, PrepareLinkHousehold},
    {"record_signatures", {"received", "documents_requested"}, nullptr, kTown | kVillage, RecordSignatures, nullptr},
    {"request_documents", {"received"}, "documents_requested", kTown, RequestDocuments, nullptr},
    {"accept", {"received", "documents_requested"}, "accepted", kTown, Accept, nullptr},
    {"record_visit", {"accepted"}, "visited", kTown | kVillage | kCounty, RecordVisit, nullptr},
    {"record_verification", {"visited"}, "verified", kTown | kCounty, RecordVerification, PrepareVerification},
    {"town_opinion", {"verified"}, nullptr, kTownReviewer, TownOpinion, nullptr},
    {"record_objection", {"public_notice"}, nullptr, kTown | kVillage, RecordObjection, nullptr},
    {"answer_objection", {"public_notice"}, nullptr, kTown | kVillage, AnswerObjection, nullptr},
    {"close_notice", {"public_notice"}, "awaiting_decision", kTown, CloseNotice, nullptr},
    {"approve", {"awaiting_decision"}, "enrolled", kCounty | kTownReviewer, Approve, nullptr},
    {"refuse", {"awaiting_decision"}, "refused", kCounty | kTownReviewer, Refuse, nullptr},
    {"extend", {"accepted", "visited", "verified", "public_notice", "awaiting_decision"}, nullptr,
     kTownReviewer | kCounty, Extend, nullptr},
    {"withdraw", {"received", "documents_requested", "accepted", "visited", "verified"}, "withdrawn", kTown, Withdraw,
     nullptr},
};

}  // namespace

const std::vector<Transition>& Transitions() { return kTransitions; }

const Transition* FindTransition(const std::string& action) {
  auto t = std::find_if(kTransitions.begin(), kTransitions.end(), [&](const Transition& x) { return action == x.action; });
  return t == kTransitions.end() ? nullptr : &*t;
}

bool AllowedFrom(const Transition& t, const std::string& state) {
  for (const char* f : t.from)
    if (f && state == f) return true;
  return false;
}

// Relatives of staff get a county home visit and county confirmation; escalated cases are
// confirmed by the county; the town confirms only where the pack delegates it.
Status MayAct(const auth::User& actor, const App& a, const Transition& t) {
  if (!auth::RoleIn(actor.role, t.roles)) return Status::PermissionDenied("您的角色不能执行该操作");
  const bool county_actor = auth::RoleIn(actor.role, kCounty);
  const std::string action = t.action;
  if (action == "record_visit" && a.staff_relative && !county_actor)
    return Status::PermissionDenied("该家庭有工作人员近亲属备案，须由县级民政部门入户调查");
  if ((action == "approve" || action == "refuse") && !county_actor && (!a.delegated || a.escalated || a.staff_relative))
    return Status::PermissionDenied(a.escalated ? "该申请已提级审核，须由县级民政部门审批" : "该申请须由县级民政部门审批确认");
  return Status::Ok();
}

Status InvalidTransition(const std::string& action, const std::string& state) {
  return Status(Code::kConflict, "invalid_transition", "当前状态（" + StateLabel(state) + "）不能执行该操作：" + action,
                "action");
}

json AllowedActions(const auth::User& actor, const App& a) {
  json allowed = json::array();
  for (const auto& t : kTransitions)
    if (AllowedFrom(t, a.state) && MayAct(actor, a, t).ok()) allowed.push_back(t.action);
  return allowed;
}

ActionContext::ActionContext(const auth::User& actor, FieldReader& body, storage::Connection& conn, App& app,
                             const policy::Pack& pack, const calendar::WorkCalendar& cal, const Prepared& prepared,
                             std::string to)
    : actor(actor), body(body), conn(conn), app(app), pack(pack), cal(cal), prepared(prepared),
      today(TodayShanghai()), now(NowIsoShanghai()), to(std::move(to)) {}

void ActionContext::Set(const char* column, storage::Value v) {
  sets_.push_back(std::string(column) + " = ?");
  values_.push_back(std::move(v));
}

Result<std::string> ActionContext::Text(const char* key, bool required, size_t max) {
  std::string v = body.String(key, required);
  if (!body.ok()) return body.status();
  size_t a = v.find_first_not_of(" \t\r\n"), b = v.find_last_not_of(" \t\r\n");
  v = a == std::string::npos ? "" : v.substr(a, b - a + 1);
  if (required && v.empty()) return Status::InvalidArgument(key, "不能为空");
  if (v.size() > max) return Status::InvalidArgument(key, "内容过长");
  return v;
}

Result<std::vector<std::string>> ActionContext::StringList(const char* key) {
  std::vector<std::string> out;
  const json* arr = body.Array(key, false);
  if (!body.ok()) return body.status();
  if (!arr) return out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const auto& e = (*arr)[i];
    if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().size() > 200)
      return Status::InvalidArgument(std::string(key) + "[" + std::to_string(i) + "]", "应为非空文字");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::vector<std::string>> ActionContext::MemberIds() {
  std::vector<std::string> ids;
  if (app.household_id) {
    DOUDI_ASSIGN_OR_RETURN(ids, CitizenIdsOf(conn, app.household_id));
  }
  ids.push_back(app.applicant_id);
  return ids;
}

Status ActionContext::Update(int64_t version) {
  Set("state", to);
  Set("updated_at", now);
  std::string sql = "UPDATE applications SET ";
  for (size_t i = 0; i < sets_.size(); ++i) sql += (i ? ", " : "") + sets_[i];
  sql += ", version = version + 1 WHERE id = ? AND version = ?";
  values_.push_back(app.id);
  values_.push_back(version);
  auto upd = conn.Execute(sql, values_);
  if (!upd.ok()) return upd.status();
  return *upd == 0 ? Status::VersionConflict() : Status::Ok();
}

}  // namespace doudi::applications

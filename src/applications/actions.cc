// The workflow's actions from intake to the public notice, and the time-limit actions (one
// function per row of the transition table, transitions.cc). The decision is in decision.cc.
#include <algorithm>

#include "applications/transitions.h"
#include "common/date.h"
#include "credit/credit.h"

namespace doudi::applications {

using nlohmann::json;

Status PrepareLinkHousehold(PrepareContext& c) {
  int64_t hid = c.body.Int("household_id", true);
  if (!c.body.ok()) return c.body.status();
  DOUDI_ASSIGN_OR_RETURN(c.out.linked, c.registry.GetHousehold(c.actor, hid));
  if (c.out.linked->village_code != c.app.village)
    return Status::InvalidArgument("household_id", "家庭须属于申请所在村（社区）");
  return Status::Ok();
}

Status LinkHousehold(ActionContext& c) {
  const registry::Household& h = *c.prepared.linked;
  c.Set("household_id", h.id);
  std::vector<std::string> ids;
  for (const auto& m : h.members) ids.push_back(m.citizen_id);
  DOUDI_ASSIGN_OR_RETURN(bool relative, credit::IsStaffRelative(c.conn, c.app.county, ids));
  c.Set("staff_relative", int64_t{relative || c.app.staff_relative});
  c.details["household_id"] = h.id;
  return Status::Ok();
}

Status RecordSignatures(ActionContext& c) {
  bool authorization = c.body.Bool("authorization", true), commitment = c.body.Bool("commitment", true);
  if (!c.body.ok()) return c.body.status();
  if (!authorization || !commitment) return Status::InvalidArgument("authorization", "须同时签署授权书和诚信承诺书");
  c.Set("authorization_signed", int64_t{1});
  c.Set("commitment_signed", int64_t{1});
  return Status::Ok();
}

Status RequestDocuments(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(auto items, c.StringList("missing_items"));
  if (items.empty()) return Status::InvalidArgument("missing_items", "请列出需要补齐的全部材料");
  c.Set("missing_items", json(items).dump());
  DOUDI_RETURN_IF_ERROR(SaveNotice(c.conn, c.actor, c.app, "missing_items", notices::RenderMissingItems(InfoOf(c.app), items)));
  c.details["missing_items"] = items;
  return Status::Ok();
}

namespace {
// The credit lists at acceptance: a dishonest applicant waits until repaid (where the pack says
// so); only a trusted one is accepted with documents missing (容缺受理).
Status CheckCredit(ActionContext& c, const std::vector<std::string>& missing) {
  DOUDI_ASSIGN_OR_RETURN(auto ids, c.MemberIds());
  auto blocked = c.pack.BoolOn("credit.reapply_blocked_until_repaid", c.today);
  DOUDI_ASSIGN_OR_RETURN(bool dishonest, credit::OnList(c.conn, c.app.county, ids, "dishonesty"));
  if (dishonest && blocked.ok() && *blocked)
    return Status::FailedPrecondition("申请人或家庭成员在失信名单中，须先退还违规领取的救助金并登记后方可受理", "credit");
  if (!missing.empty()) {
    DOUDI_ASSIGN_OR_RETURN(bool trusted, credit::OnList(c.conn, c.app.county, ids, "trust"));
    if (!trusted) return Status::FailedPrecondition("仅守信名单中的申请人可以容缺受理，请先补齐材料", "missing_items");
    c.details["accepted_with_missing_items"] = missing;
  }
  return Status::Ok();
}
}  // namespace

Status Accept(ActionContext& c) {
  if (!c.app.household_id) return Status::FailedPrecondition("请先关联户籍家庭（网上申请须先登记家庭）", "household_id");
  if (!c.app.authorization || !c.app.commitment)
    return Status::FailedPrecondition("申请人尚未签署授权书和诚信承诺书", "authorization");
  DOUDI_ASSIGN_OR_RETURN(auto items, c.StringList("missing_items"));
  DOUDI_RETURN_IF_ERROR(CheckCredit(c, items));
  DOUDI_ASSIGN_OR_RETURN(int64_t days, c.pack.IntOn(c.app.delegated ? "workflow.dibao.total_delegated_working_days"
                                                                    : "workflow.dibao.total_working_days",
                                                    c.today));
  std::string due = c.cal.AddWorkingDays(c.today, static_cast<int>(days));
  c.Set("accepted_at", c.now);
  c.Set("due_date", due);
  c.Set("missing_items", json(items).dump());
  c.app.accepted_at = c.now;
  c.app.due_date = due;
  DOUDI_RETURN_IF_ERROR(SaveNotice(c.conn, c.actor, c.app, "acceptance", notices::RenderAcceptance(InfoOf(c.app))));
  c.details["due_date"] = due;
  c.details["working_days"] = days;
  return Status::Ok();
}

Status RecordVisit(ActionContext& c) {
  std::string visited_on = c.body.String("visited_on", false, c.today);
  DOUDI_ASSIGN_OR_RETURN(auto staff, c.StringList("staff"));
  DOUDI_ASSIGN_OR_RETURN(std::string findings, c.Text("findings", true));
  int y, m, d;
  if (!ParseDate(visited_on, &y, &m, &d) || visited_on > c.today) return Status::InvalidArgument("visited_on", "入户日期无效");
  DOUDI_ASSIGN_OR_RETURN(int64_t team_min, c.pack.IntOn("workflow.dibao.survey_team_min", c.today));
  if (static_cast<int64_t>(staff.size()) < team_min)
    return Status::InvalidArgument("staff", "入户调查人员不少于" + std::to_string(team_min) + "人");
  json visit = {{"visited_on", visited_on}, {"staff", staff}, {"findings", findings}, {"recorded_by", c.actor.username}};
  c.Set("visit", visit.dump());
  c.details["visit"] = visit;
  return Status::Ok();
}

Status PrepareVerification(PrepareContext& c) {
  if (!c.app.household_id) return Status::FailedPrecondition("请先关联户籍家庭", "household_id");
  std::string date = c.body.String("date", false, TodayShanghai());
  int y, m, d;
  if (!ParseDate(date, &y, &m, &d)) return Status::InvalidArgument("date", "日期应为 YYYY-MM-DD");
  DOUDI_ASSIGN_OR_RETURN(c.out.determinations, c.policy.HouseholdDeterminations(c.actor, c.app.household_id, date));
  return Status::Ok();
}

Status RecordVerification(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string findings, c.Text("findings", false));
  json verification = {{"findings", findings}, {"date", c.prepared.determinations.value("date", c.today)},
                       {"recorded_by", c.actor.username}};
  c.Set("verification", verification.dump());
  c.Set("determinations", c.prepared.determinations.dump());
  c.details["verification"] = verification;
  return Status::Ok();
}

Status TownOpinion(ActionContext& c) {
  std::string recommend = c.body.String("recommend", true);
  DOUDI_ASSIGN_OR_RETURN(std::string opinion, c.Text("opinion", true));
  bool escalate = c.body.Bool("escalate", false);
  if (!c.body.ok()) return c.body.status();
  if (recommend != "approve" && recommend != "refuse")
    return Status::InvalidArgument("recommend", "审核意见应为 approve 或 refuse");
  json op = {{"recommend", recommend}, {"opinion", opinion}, {"escalate", escalate}, {"by", c.actor.username},
             {"at", c.now}};
  c.Set("town_opinion", op.dump());
  c.Set("escalated", int64_t{escalate});
  if (recommend == "approve") {
    DOUDI_ASSIGN_OR_RETURN(int64_t notice_days, c.pack.IntOn("workflow.dibao.public_notice_days", c.today));
    c.to = "public_notice";
    c.Set("notice_starts", c.today);
    c.Set("notice_ends", AddDays(c.today, static_cast<int>(notice_days)));
    c.details["notice_ends"] = AddDays(c.today, static_cast<int>(notice_days));
  } else {
    c.to = "awaiting_decision";
  }
  c.details["opinion"] = op;
  return Status::Ok();
}

Status RecordObjection(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string content, c.Text("content", true));
  DOUDI_ASSIGN_OR_RETURN(std::string by, c.Text("by", false, 100));
  auto ins = c.conn.Query(
      "INSERT INTO objections (application_id, content, by_name, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?) "
      "RETURNING id",
      {c.app.id, content, by, c.actor.username, c.now});
  if (!ins.ok()) return ins.status();
  c.details["objection_id"] = ins->rows[0].Int(0);
  c.details["content"] = content;
  return Status::Ok();
}

Status AnswerObjection(ActionContext& c) {
  int64_t oid = c.body.Int("objection_id", true);
  DOUDI_ASSIGN_OR_RETURN(std::string answer, c.Text("answer", true));
  auto upd = c.conn.Execute(
      "UPDATE objections SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND application_id = ? AND "
      "answer IS NULL",
      {answer, c.actor.username, c.now, oid, c.app.id});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::InvalidArgument("objection_id", "没有待答复的该条异议");
  c.details["objection_id"] = oid;
  c.details["answer"] = answer;
  return Status::Ok();
}

Status CloseNotice(ActionContext& c) {
  if (c.today < c.app.notice_ends)
    return Status::FailedPrecondition("公示期至" + c.app.notice_ends + "结束，公示期满后方可结束公示", "notice_ends");
  auto open = c.conn.Query("SELECT COUNT(*) FROM objections WHERE application_id = ? AND answer IS NULL", {c.app.id});
  if (!open.ok()) return open.status();
  if (open->rows[0].Int(0) > 0) return Status::FailedPrecondition("还有未答复的公示异议", "objections");
  return Status::Ok();
}

Status Extend(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string reason, c.Text("reason", true));
  if (c.app.extended) return Status::FailedPrecondition("该申请已延长过办理期限", "extended");
  DOUDI_ASSIGN_OR_RETURN(int64_t days, c.pack.IntOn("workflow.dibao.total_extended_working_days", c.today));
  std::string due = c.cal.AddWorkingDays(c.app.accepted_at.substr(0, 10), static_cast<int>(days));
  c.Set("extended", int64_t{1});
  c.Set("due_date", due);
  c.details["due_date"] = due;
  c.details["reason"] = reason;
  return Status::Ok();
}

Status Withdraw(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string reason, c.Text("reason", false));
  c.Set("decided_at", c.now);
  c.Set("decision", std::string("withdrawn"));
  c.Set("decision_note", reason);
  c.details["reason"] = reason;
  return Status::Ok();
}

}  // namespace doudi::applications

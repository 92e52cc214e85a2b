// The decision on an application (审批确认): approval enrolls the household in each programme
// it applied for and is eligible for, by the determinations recorded at verification, and opens
// the referrals to departments; refusal gives the reasons. Both archive their notice.
#include <algorithm>

#include "applications/transitions.h"
#include "common/date.h"
#include "common/lists.h"
#include "enrollments/enrollments.h"

namespace doudi::applications {
namespace {

using nlohmann::json;

// The enrollments an approval grants and the lines of its notice.
class Grant {
 public:
  Grant(ActionContext& c, json& det, std::string first_month, std::string next_review)
      : c_(c), det_(det), first_month_(std::move(first_month)), next_review_(std::move(next_review)),
        programs_(SplitList(c.app.programs)) {}

  bool Wanted(const char* p) const { return std::find(programs_.begin(), programs_.end(), p) != programs_.end(); }
  bool Eligible(const char* p) { return det_[p].value("eligible", false); }

  Status Enroll(const std::string& program, const json& covered, int64_t monthly, int64_t one_off, std::string line) {
    const App& a = c_.app;
    DOUDI_RETURN_IF_ERROR(enrollments::Enroll(c_.conn, {a.household_id, a.id, a.county, a.town, a.village, program,
                                                        covered, monthly, one_off, first_month_, next_review_}));
    lines_.push_back(std::move(line));
    return Status::Ok();
  }

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  ActionContext& c_;
  json& det_;  // non-const: operator[] on a missing key inserts null (on a const json it is undefined)
  std::string first_month_, next_review_;
  std::vector<std::string> programs_, lines_;
};

// Each programme applied for and determined eligible, in the order of the approval notice.
Status GrantPrograms(Grant& g, json& det, const json& all_ids, const std::string& first_month) {
  if (g.Wanted("dibao") && g.Eligible("dibao")) {
    int64_t m = det["dibao"].value("monthly_fen", int64_t{0});
    DOUDI_RETURN_IF_ERROR(g.Enroll("dibao", det["dibao"]["covered"], m, 0,
                                   "最低生活保障（" +
                                       std::string(det["dibao"].value("coverage", "") == "single_persons" ? "单人保" : "整户施保") +
                                       "）：每月 " + notices::Yuan(m) + " 元，自 " + first_month + " 起按月发放"));
  }
  if (g.Wanted("tekun") && g.Eligible("tekun")) {
    int64_t m = det["tekun"].value("monthly_fen", int64_t{0});
    DOUDI_RETURN_IF_ERROR(g.Enroll("tekun", det["tekun"]["covered"], m, 0,
                                   "特困人员救助供养：每月 " + notices::Yuan(m) + " 元，自 " + first_month + " 起按月发放"));
  }
  if (g.Wanted("marginal") && g.Eligible("marginal"))
    DOUDI_RETURN_IF_ERROR(g.Enroll("marginal", all_ids, 0, 0, "认定为低保边缘家庭，可享受相应专项救助"));
  if (g.Wanted("illness_poverty") && g.Eligible("illness_poverty"))
    DOUDI_RETURN_IF_ERROR(
        g.Enroll("illness_poverty", det["illness_poverty"]["covered"], 0, 0, "认定为因病致贫重病患者，转介医疗救助"));
  if (g.Eligible("expenditure_hardship") && (g.Wanted("temporary") || g.Wanted("marginal")))
    DOUDI_RETURN_IF_ERROR(g.Enroll("expenditure_hardship", all_ids, 0, 0, "认定为刚性支出困难家庭"));
  if (g.Wanted("temporary") && g.Eligible("temporary")) {
    int64_t amount = det["temporary"].value("amount_fen", int64_t{0});
    DOUDI_RETURN_IF_ERROR(g.Enroll("temporary", all_ids, 0, amount, "临时救助：一次性 " + notices::Yuan(amount) + " 元"));
  }
  return Status::Ok();
}

// The referrals the determinations name (medical aid, education, housing, employment, …), each
// due within the pack's working days.
Status OpenReferrals(ActionContext& c, const json& det) {
  DOUDI_ASSIGN_OR_RETURN(int64_t ref_days, c.pack.IntOn("workflow.referral.response_working_days", c.today));
  std::string ref_due = c.cal.AddWorkingDays(c.today, static_cast<int>(ref_days));
  const App& a = c.app;
  for (const auto& ref : det.value("referrals", json::array())) {
    std::string triggers;
    for (const auto& tg : ref.value("triggers", json::array())) triggers += (triggers.empty() ? "" : ",") + tg.get<std::string>();
    auto ins = c.conn.Execute(
        "INSERT INTO referrals (application_id, household_id, county_code, town_code, village_code, kind, department, "
        "department_label, triggers, status, due_date, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        {a.id, a.household_id, a.county, a.town, a.village, ref.value("kind", ""), ref.value("department", ""),
         ref.value("department_label", ""), triggers, ref_due, c.now, c.now});
    if (!ins.ok()) return ins.status();
  }
  return Status::Ok();
}

// The next review: sooner for a household with members able to work (an employment referral).
Result<std::string> NextReview(ActionContext& c, const json& det) {
  DOUDI_ASSIGN_OR_RETURN(int64_t review_stable, c.pack.IntOn("review.stable_months", c.today));
  DOUDI_ASSIGN_OR_RETURN(int64_t review_other, c.pack.IntOn("review.other_months", c.today));
  bool employable = false;
  for (const auto& ref : det.value("referrals", json::array()))
    if (ref.value("kind", "") == "employment") employable = true;
  return AddMonthsToDate(c.today, static_cast<int>(employable ? review_other : review_stable));
}

}  // namespace

Status Approve(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string opinion, c.Text("opinion", false));
  json det = ParseJsonOr(c.app.determinations, nullptr);
  if (det.is_null()) return Status::FailedPrecondition("缺少信息核对结果");
  const std::string first_month = MonthAfter(c.today);
  DOUDI_ASSIGN_OR_RETURN(std::string next_review, NextReview(c, det));
  DOUDI_ASSIGN_OR_RETURN(auto ids, CitizenIdsOf(c.conn, c.app.household_id));
  Grant grant(c, det, first_month, next_review);
  DOUDI_RETURN_IF_ERROR(GrantPrograms(grant, det, json(ids), first_month));
  if (grant.lines().empty())
    return Status::FailedPrecondition("信息核对测算结果不符合所申请的任何救助条件，请作出不予审批决定", "determinations");
  DOUDI_RETURN_IF_ERROR(OpenReferrals(c, det));
  c.Set("decided_at", c.now);
  c.Set("decision", std::string("approved"));
  c.Set("decision_note", opinion);
  DOUDI_RETURN_IF_ERROR(SaveNotice(c.conn, c.actor, c.app, "approval", notices::RenderApproval(InfoOf(c.app), grant.lines(), c.today)));
  c.details["enrollments"] = static_cast<int>(grant.lines().size());
  c.details["first_paid_month"] = first_month;
  if (!opinion.empty()) c.details["opinion"] = opinion;
  return Status::Ok();
}

Status Refuse(ActionContext& c) {
  DOUDI_ASSIGN_OR_RETURN(std::string reasons, c.Text("reasons", true));
  c.Set("decided_at", c.now);
  c.Set("decision", std::string("refused"));
  c.Set("decision_note", reasons);
  DOUDI_RETURN_IF_ERROR(SaveNotice(c.conn, c.actor, c.app, "refusal", notices::RenderRefusal(InfoOf(c.app), reasons, c.today)));
  c.details["reasons"] = reasons;
  return Status::Ok();
}

}  // namespace doudi::applications

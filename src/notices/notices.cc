#include "notices/notices.h"

#include <algorithm>
#include <map>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/lists.h"

namespace doudi::notices {
namespace {

const char* kStyle = R"CSS(
@page { size: A4; margin: 25mm 22mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 16px; line-height: 1.9; color: #000; max-width: 170mm; margin: 0 auto; }
h1 { text-align: center; font-size: 24px; letter-spacing: 4px; margin: 8px 0 4px; }
.no { text-align: center; margin-bottom: 24px; }
p { text-indent: 2em; margin: 6px 0; }
p.to { text-indent: 0; }
ul { margin: 6px 0 6px 3em; }
.sign { text-align: right; margin-top: 48px; }
.rights { border-top: 1px solid #000; margin-top: 32px; padding-top: 8px; font-size: 14px; }
@media print { .noprint { display: none; } }
)CSS";

// The print button's handler: a same-origin script of the web root (the pages are served with
// `default-src 'self'`, which blocks inline script and inline event handlers).
constexpr const char* kPrintScript = "<script src=\"/notice-print.js\"></script>";
constexpr const char* kOldButton = "<button onclick=\"window.print()\">打印</button>";

std::string Page(const std::string& title, const NoticeInfo& n, const std::string& body, const std::string& date) {
  std::string issuer = n.issuer.empty() ? n.town_name + "人民政府" : n.issuer;
  return "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) + " " +
         HtmlEscape(n.case_no) + "</title><style>" + kStyle + "</style></head><body>" +
         "<h1>" + HtmlEscape(title) + "</h1><div class=\"no\">" + HtmlEscape(n.reference_label) + "：" + HtmlEscape(n.case_no) + "</div>" +
         "<p class=\"to\">" + HtmlEscape(n.applicant_name) + "（身份证号 " + HtmlEscape(n.applicant_id_masked) +
         "）：</p>" + body + "<div class=\"sign\">" + HtmlEscape(issuer) + "<br>" + HtmlEscape(date) + "</div>" +
         "<div class=\"rights\">如对本决定不服，可以自收到本告知书之日起六十日内向县人民政府或者上一级民政部门申请行政复议，"
         "也可以自收到本告知书之日起六个月内依法向人民法院提起行政诉讼。</div>" +
         "<p class=\"noprint\" style=\"text-indent:0;margin-top:24px\"><button type=\"button\" data-print>打印</button></p>" +
         kPrintScript + "</body></html>";
}

std::string ProgramList(const NoticeInfo& n) {
  std::string s;
  for (const auto& p : n.programs) s += (s.empty() ? "" : "、") + ProgramLabel(p);
  return s;
}

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Yuan(int64_t fen) {
  bool neg = fen < 0;
  if (neg) fen = -fen;
  std::string whole = std::to_string(fen / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  char cents[4];
  std::snprintf(cents, sizeof cents, "%02d", static_cast<int>(fen % 100));
  return (neg ? "-" : "") + grouped + "." + cents;
}

std::string ProgramLabel(const std::string& program) {
  static const std::map<std::string, std::string> kLabels = {
      {"dibao", "最低生活保障"}, {"tekun", "特困人员救助供养"}, {"temporary", "临时救助"},
      {"marginal", "低保边缘家庭认定"}, {"illness_poverty", "因病致贫重病患者认定"},
      {"expenditure_hardship", "刚性支出困难家庭认定"}};
  auto it = kLabels.find(program);
  return it == kLabels.end() ? program : it->second;
}

std::string PrintableNotice(const std::string& archived) {
  std::string html = archived;
  if (size_t p = html.find(kOldButton); p != std::string::npos)
    html.replace(p, std::string(kOldButton).size(), "<button type=\"button\" data-print>打印</button>");
  if (html.find(kPrintScript) == std::string::npos) {
    size_t end = html.rfind("</body>");
    html.insert(end == std::string::npos ? html.size() : end, kPrintScript);
  }
  return html;
}

std::string RenderAcceptance(const NoticeInfo& n) {
  std::string body = "<p>您于" + HtmlEscape(n.received_on) + "提出的" + HtmlEscape(ProgramList(n)) +
                     "申请（社会救助“五合一”申请），经审查，申请材料齐全，符合受理条件，现予受理。</p>"
                     "<p>我们将在受理后组织入户调查并开展家庭经济状况信息核对，请您配合并如实提供情况。"
                     "本申请应于" + HtmlEscape(n.due_date) + "前办结（按工作日计算，公示期和依法延长的期限除外）。</p>"
                     "<p>您可以凭案号和本人身份证号在网上查询办理进度。</p>";
  return Page("社会救助申请受理告知书", n, body, n.accepted_on);
}

std::string RenderMissingItems(const NoticeInfo& n, const std::vector<std::string>& items) {
  std::string list;
  for (const auto& i : items) list += "<li>" + HtmlEscape(i) + "</li>";
  std::string body = "<p>您于" + HtmlEscape(n.received_on) + "提出的" + HtmlEscape(ProgramList(n)) +
                     "申请，尚需补齐下列材料（一次性告知，政府部门平台可查询的材料不再要求提供）：</p><ul>" + list +
                     "</ul><p>请补齐后到" + HtmlEscape(n.town_name) + "便民服务中心社会救助窗口或通过村（社区）社会救助协理员提交。</p>";
  return Page("社会救助申请材料一次性告知书", n, body, n.received_on);
}

std::string RenderApproval(const NoticeInfo& n, const std::vector<std::string>& lines, const std::string& decided_on) {
  std::string list;
  for (const auto& l : lines) list += "<li>" + HtmlEscape(l) + "</li>";
  std::string body = "<p>您于" + HtmlEscape(n.received_on) + "提出的社会救助申请，经入户调查、家庭经济状况信息核对、"
                     "审核和公示，决定给予以下救助：</p><ul>" + list +
                     "</ul><p>救助金按月通过社会保障卡或银行账户发放。家庭人口、收入、财产状况发生变化的，"
                     "请及时告知村（社区）或镇（街道）。</p>";
  return Page("社会救助审批通知书", n, body, decided_on);
}

std::string RenderRefusal(const NoticeInfo& n, const std::string& reasons, const std::string& decided_on) {
  std::string body = "<p>您于" + HtmlEscape(n.received_on) + "提出的" + HtmlEscape(ProgramList(n)) +
                     "申请，经入户调查、家庭经济状况信息核对和审核，决定不予批准。理由如下：</p><p>" +
                     HtmlEscape(reasons) + "</p>";
  return Page("社会救助不予审批告知书", n, body, decided_on);
}

std::string RenderTermination(const NoticeInfo& n, const std::string& reasons, const std::string& effective) {
  std::string body = "<p>经核查，决定自" + HtmlEscape(effective) + "起取消您家庭的" + HtmlEscape(ProgramList(n)) +
                     "救助待遇。理由如下：</p><p>" + HtmlEscape(reasons) + "</p>";
  return Page("取消社会救助待遇告知书", n, body, effective);
}

Result<int64_t> Archive(storage::Connection& conn, const auth::User& actor, const NoticeOwner& owner,
                        const std::string& kind, const std::string& html) {
  std::string sha = audit::Sha256Hex(html);
  auto rs = conn.Query(
      "INSERT INTO notices (application_id, village_code, kind, html, sha256, created_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {owner.application_id ? storage::Value(owner.application_id) : storage::Value(nullptr), owner.village_code, kind,
       html, sha, actor.username, NowIsoShanghai()});
  if (!rs.ok()) return rs.status();
  DOUDI_RETURN_IF_ERROR(
      audit::RecordWrite(conn, actor.actor(),
                         {"notice.create", "notice", rs->rows[0].Text(0), owner.village_code, "null",
                          nlohmann::json{{"kind", kind},
                                         {"application_id", owner.application_id ? nlohmann::json(owner.application_id)
                                                                                 : nlohmann::json(nullptr)},
                                         {"sha256", sha}}
                              .dump()}));
  return rs->rows[0].Int(0);
}

Result<NoticeInfo> InfoOfApplication(storage::Connection& conn, int64_t application_id) {
  auto rs = conn.Query(
      "SELECT a.case_no, a.applicant_name, a.applicant_citizen_id, v.name, t.name, a.programs, a.received_at, "
      "a.accepted_at, a.due_date FROM applications a JOIN regions v ON v.code = a.village_code "
      "JOIN regions t ON t.code = a.town_code WHERE a.id = ?",
      {application_id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("申请不存在");
  const auto& r = rs->rows[0];
  NoticeInfo n;
  n.case_no = r.Text(0);
  n.applicant_name = r.Text(1);
  n.applicant_id_masked = MaskCitizenId(r.Text(2));
  n.village_name = r.Text(3);
  n.town_name = r.Text(4);
  n.programs = SplitList(r.Text(5));
  n.received_on = r.Text(6).substr(0, 10);
  n.accepted_on = r.Text(7).substr(0, std::min<size_t>(10, r.Text(7).size()));
  n.due_date = r.Text(8);
  return n;
}

Result<NoticeInfo> InfoOfEnrollment(storage::Connection& conn, int64_t enrollment_id) {
  auto rs = conn.Query(
      "SELECT e.program, v.name, t.name, p.name, p.citizen_id, e.first_paid_month FROM enrollments e "
      "JOIN regions v ON v.code = e.village_code JOIN regions t ON t.code = e.town_code "
      "LEFT JOIN persons p ON p.household_id = e.household_id AND p.relation = 'head' WHERE e.id = ?",
      {enrollment_id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("救助对象记录不存在");
  const auto& r = rs->rows[0];
  NoticeInfo n;
  n.reference_label = "救助对象记录号";
  n.case_no = std::to_string(enrollment_id);
  n.programs = {r.Text(0)};
  n.village_name = r.Text(1);
  n.town_name = r.Text(2);
  n.applicant_name = r.Text(3);
  n.applicant_id_masked = r.IsNull(4) ? std::string() : MaskCitizenId(r.Text(4));
  return n;
}

}  // namespace doudi::notices

// The notices module: the written notices of the workflow and of dynamic management, rendered
// once as printable A4 HTML pages in Chinese and archived unchanged with their SHA-256.
//
// Owns: the `notices` table (Archive writes it, with its "notice.create" audit entry) and the
// notice templates. Takes: the facts a notice names (NoticeInfo). Errors: only the database's.
// Depends on: storage, audit, auth. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "storage/database.h"

namespace doudi::notices {

struct NoticeInfo {
  std::string case_no, applicant_name, applicant_id_masked, village_name, town_name;
  std::vector<std::string> programs;  // dibao, tekun, …
  std::string received_on, accepted_on, due_date;
  std::string issuer;  // e.g. "乔官镇人民政府"
  // The reference line: "案号" and the case number; a notice with no case (an enrollment that was
  // not decided in doudi) names the enrollment instead.
  std::string reference_label = "案号";
};

// Chinese name of a programme identifier.
std::string ProgramLabel(const std::string& program);

// 社会救助申请受理告知书
std::string RenderAcceptance(const NoticeInfo& n);
// 一次性告知书: everything missing, in one notice.
std::string RenderMissingItems(const NoticeInfo& n, const std::vector<std::string>& items);
// 审批通知书: lines like "最低生活保障：每月 1,100.00 元，自 2026-12 起发放".
std::string RenderApproval(const NoticeInfo& n, const std::vector<std::string>& lines, const std::string& decided_on);
// 不予审批告知书 with the reasons and the rights of review and litigation.
std::string RenderRefusal(const NoticeInfo& n, const std::string& reasons, const std::string& decided_on);
// 取消救助待遇告知书
std::string RenderTermination(const NoticeInfo& n, const std::string& reasons, const std::string& effective);

// The page served for printing: the archived html (kept unchanged in the database, its SHA-256
// recorded) with a notice archived before issue 17 made to print under the CSP: its inline
// onclick button replaced by one the same-origin /notice-print.js handles, the script added.
std::string PrintableNotice(const std::string& archived_html);

// "1,100.00" from fen.
std::string Yuan(int64_t fen);
std::string HtmlEscape(const std::string& s);

// The case a notice belongs to (its scope is the case's village); application_id 0 for a notice
// of an enrollment that was not decided in doudi (its enrollment_id is set by the caller).
struct NoticeOwner {
  int64_t application_id = 0;
  std::string village_code;
};

// Archives a rendered notice in the caller's transaction: the html unchanged with its SHA-256,
// and the "notice.create" audit entry. Returns the notice's id.
Result<int64_t> Archive(storage::Connection& conn, const auth::User& actor, const NoticeOwner& owner,
                        const std::string& kind, const std::string& html);

// The facts of an application a notice names, read from the database (for a notice written
// outside the workflow, such as the termination of an enrollment). NotFound without it.
Result<NoticeInfo> InfoOfApplication(storage::Connection& conn, int64_t application_id);

// The facts a notice of an enrollment with no application names: the household head, the
// village and town, the programme; the reference is the enrollment's number. NotFound without it.
Result<NoticeInfo> InfoOfEnrollment(storage::Connection& conn, int64_t enrollment_id);

}  // namespace doudi::notices

// The application record as the applications module (and the public pages built on it) read
// and write it: its columns, loading within a scope, its summary document, its audit entry.
// Internal to src/applications/ and src/public_pages/; other modules use applications.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "calendar/calendar.h"
#include "common/json_input.h"
#include "notices/notices.h"
#include "policy/pack.h"
#include "storage/database.h"

namespace doudi::applications {

// The five programmes of one application (五合一).
const std::vector<std::string>& Programs();
// The Chinese label of a state ("received" → "已提交，待受理"); unknown states as given.
std::string StateLabel(const std::string& state);
// The optional "programs" array of a new application: each one of Programs(); none → all five.
// InvalidArgument names the element ("programs[2]").
Result<std::vector<std::string>> ReadPrograms(FieldReader& r);
// enrolled, refused, withdrawn.
bool IsFinal(const std::string& state);

// One row of `applications` with its village's and town's names.
struct App {
  int64_t id = 0, version = 0, household_id = 0;
  std::string case_no, state, channel, programs, county, town, village, village_name, town_name, applicant_name,
      applicant_id, applicant_phone, received_at, accepted_at, due_date, missing_items, visit, verification,
      determinations, town_opinion, notice_starts, notice_ends, decided_at, decision, decision_note, created_by,
      description;
  bool staff_relative = false, escalated = false, delegated = false, extended = false, authorization = false,
       commitment = false;
};

// "SELECT <columns> FROM applications a JOIN regions …" without the WHERE.
std::string SelectApps();
App AppFromRow(const storage::Row& r);
// The application within `scope` (a region code); NotFound outside it, like a missing case.
Result<App> LoadApp(storage::Connection& conn, int64_t id, const std::string& scope);
// The summary document of list pages and the household file.
nlohmann::json AppSummary(const App& a, const calendar::WorkCalendar& cal);

// The access rule of a case's content (the application, its timeline, notices, attachments and
// the household file): the roles that read the registry (not the department liaison), and only
// within the user's region (LoadApp answers NotFound outside it).
Status MayReadCases(const auth::User& actor);

// The case's audit entry (entity "application"), which is also its timeline.
Status AuditApp(storage::Connection& conn, const auth::User& actor, const App& a, const std::string& action,
                const std::string& from, const std::string& to, nlohmann::json details);

// Case numbers are county-year-id ("370725-2026-000123"): assigned right after the insert, in
// the same transaction (the row is inserted with a random placeholder).
Result<std::string> AssignCaseNo(storage::Connection& conn, int64_t id, const std::string& county,
                                 const std::string& date);

// The citizen ids of a household's members.
Result<std::vector<std::string>> CitizenIdsOf(storage::Connection& conn, int64_t household_id);

// The pack delegates confirmation to the town on `date`.
bool TownConfirms(const policy::Pack& pack, const std::string& date);

// The facts a notice of this case names.
notices::NoticeInfo InfoOf(const App& a);
// Archives a notice of this case.
Status SaveNotice(storage::Connection& conn, const auth::User& actor, const App& a, const std::string& kind,
                  const std::string& html);

}  // namespace doudi::applications

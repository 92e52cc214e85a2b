// The calendar module: working days for every deadline, and the holiday table staff edit.
//
// Owns: the tables `holidays` (the State Council's calendar, reference data written at migrate,
// never changed through the API) and `county_holidays` (each county's own changes, written only
// by that county's admin), and the per-county WorkCalendar cache every deadline is counted with.
// Takes: the acting user (its county is the first six digits of its region code). Returns JSON
// documents of docs/api.md § Calendar. Errors: InvalidArgument (field named), PermissionDenied
// (only a county admin edits), NotFound (deleting a day the county's calendar does not list).
// Depends on: storage, audit, auth (nothing above them). Thread-safe: the cache has its own lock,
// and a county's edit drops that county's cached calendar after its transaction commits.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "calendar/calendar.h"
#include "storage/database.h"

namespace doudi::calendar {

// The county's calendar (cached; loaded on first use). `county` is a 6-digit code.
Result<std::shared_ptr<const WorkCalendar>> ForCounty(storage::Connection& conn, const std::string& county);

class CalendarService {
 public:
  explicit CalendarService(storage::Database& db) : db_(db) {}

  // The State Council's days of a year (YYYY) with the user's county's own changes over them.
  Result<nlohmann::json> Holidays(const auth::User& actor, const std::string& year);
  // A county admin's holiday or make-up working day, for that county only.
  Result<nlohmann::json> SetHoliday(const auth::User& actor, const std::string& day, const nlohmann::json& body);
  // Makes the day an ordinary one for the admin's county.
  Result<nlohmann::json> DeleteHoliday(const auth::User& actor, const std::string& day);
  // The due date `days` working days after `from` by the user's county's calendar.
  Result<nlohmann::json> WorkingDays(const auth::User& actor, const std::string& from, const std::string& days);

 private:
  storage::Database& db_;
};

}  // namespace doudi::calendar

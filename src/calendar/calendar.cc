#include "calendar/calendar.h"

#include "common/date.h"

namespace doudi::calendar {

Result<WorkCalendar> WorkCalendar::Load(storage::Connection& conn, const std::string& county) {
  auto rs = conn.Query("SELECT day, kind FROM holidays");
  if (!rs.ok()) return rs.status();
  WorkCalendar c;
  for (const auto& r : rs->rows) (r.Text(1) == "workday" ? c.workdays_ : c.holidays_).insert(r.Text(0));
  if (county.empty()) return c;
  auto own = conn.Query("SELECT day, kind FROM county_holidays WHERE county_code = ?", {county});
  if (!own.ok()) return own.status();
  for (const auto& r : own->rows) {
    c.holidays_.erase(r.Text(0));
    c.workdays_.erase(r.Text(0));
    if (r.Text(1) == "holiday") c.holidays_.insert(r.Text(0));
    else if (r.Text(1) == "workday") c.workdays_.insert(r.Text(0));
  }
  return c;
}

bool WorkCalendar::IsWorkingDay(const std::string& date) const {
  if (workdays_.count(date)) return true;
  if (holidays_.count(date)) return false;
  return Weekday(date) < 5;
}

std::string WorkCalendar::AddWorkingDays(const std::string& start, int n) const {
  std::string d = start;
  for (int counted = 0; counted < n;) {
    d = AddDays(d, 1);
    if (IsWorkingDay(d)) ++counted;
  }
  return d;
}

int WorkCalendar::WorkingDaysBetween(const std::string& from, const std::string& to) const {
  int n = 0;
  for (std::string d = AddDays(from, 1); d <= to; d = AddDays(d, 1))
    if (IsWorkingDay(d)) ++n;
  return n;
}

}  // namespace doudi::calendar

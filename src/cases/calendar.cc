#include "cases/calendar.h"

#include "common/date.h"

namespace doudi::cases {
namespace {
// Days since 1970-01-01 (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
std::string CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return FormatDate(static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d));
}
int64_t ToDays(const std::string& date) {
  int y, m, d;
  ParseDate(date, &y, &m, &d);
  return DaysFromCivil(y, m, d);
}
}  // namespace

int Weekday(const std::string& date) {
  int64_t z = ToDays(date);  // 1970-01-01 was a Thursday (3)
  return static_cast<int>(((z % 7) + 7 + 3) % 7);
}

std::string AddDays(const std::string& date, int n) { return CivilFromDays(ToDays(date) + n); }

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

}  // namespace doudi::cases

#include "common/date.h"

#include <chrono>
#include <cstdio>

namespace doudi {

bool IsValidDate(int y, int m, int d) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + ((m == 2 && leap) ? 1 : 0);
  return d <= max;
}

std::string FormatDate(int y, int m, int d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

bool ParseDate(std::string_view s, int* y, int* m, int* d) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  *y = std::stoi(std::string(s.substr(0, 4)));
  *m = std::stoi(std::string(s.substr(5, 2)));
  *d = std::stoi(std::string(s.substr(8, 2)));
  return IsValidDate(*y, *m, *d);
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
std::tm ShanghaiTm() {
  std::time_t t = static_cast<std::time_t>(NowUnixSeconds() + 8 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string TodayShanghai() {
  std::tm tm = ShanghaiTm();
  return FormatDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string NowIsoShanghai() {
  std::tm tm = ShanghaiTm();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

int AgeOn(std::string_view birth, std::string_view on) {
  int by, bm, bd, oy, om, od;
  if (!ParseDate(birth, &by, &bm, &bd) || !ParseDate(on, &oy, &om, &od)) return 0;
  int age = oy - by;
  if (om < bm || (om == bm && od < bd)) --age;
  return age < 0 ? 0 : age;
}

bool IsMonth(std::string_view month) {
  int y, m, d;
  return month.size() == 7 && ParseDate(std::string(month) + "-01", &y, &m, &d);
}

std::string LastDayOfMonth(std::string_view month) {
  int y = std::stoi(std::string(month.substr(0, 4))), m = std::stoi(std::string(month.substr(5, 2))), d = 31;
  while (!IsValidDate(y, m, d)) --d;
  return FormatDate(y, m, d);
}

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

std::string MonthAfter(const std::string& date) {
  int y, m, d;
  ParseDate(date, &y, &m, &d);
  if (++m > 12) {
    m = 1;
    ++y;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
  return buf;
}

std::string AddMonthsToDate(const std::string& date, int months) {
  int y, m, d;
  ParseDate(date, &y, &m, &d);
  int total = y * 12 + (m - 1) + months;
  int ny = total / 12, nm = total % 12 + 1;
  while (!IsValidDate(ny, nm, d)) --d;
  return FormatDate(ny, nm, d);
}

}  // namespace doudi

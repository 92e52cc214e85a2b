// Dates and times. All calendar dates are Asia/Shanghai (UTC+8, no DST).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace doudi {

bool IsValidDate(int y, int m, int d);
std::string FormatDate(int y, int m, int d);  // YYYY-MM-DD
// Parses YYYY-MM-DD strictly; returns false on anything else.
bool ParseDate(std::string_view s, int* y, int* m, int* d);
// A month written YYYY-MM.
bool IsMonth(std::string_view month);
// The last day (YYYY-MM-DD) of a month given as YYYY-MM (which must be IsMonth).
std::string LastDayOfMonth(std::string_view month);
std::string TodayShanghai();
// Current instant as ISO 8601 with +08:00, second precision.
std::string NowIsoShanghai();
int64_t NowUnixSeconds();
// Whole years between birth and on (both YYYY-MM-DD).
int AgeOn(std::string_view birth, std::string_view on);
// 0 = Monday … 6 = Sunday, for a valid YYYY-MM-DD.
int Weekday(const std::string& date);
// Date plus n calendar days (n may be negative).
std::string AddDays(const std::string& date, int n);
// The month (YYYY-MM) after the month of a date (YYYY-MM-DD).
std::string MonthAfter(const std::string& date);
// Date plus n months; a day the target month lacks becomes its last day (01-31 + 1 → 02-28).
std::string AddMonthsToDate(const std::string& date, int months);

}  // namespace doudi

// Working days: the State Council holiday calendar with make-up working days (调休), from the
// `holidays` table (generated from npm chinese-days at migrate), shared by all counties, with
// each county's own changes over it (`county_holidays`, edited by that county's admin: a
// holiday, a make-up working day, or 'none' to make a State Council day ordinary there).
#pragma once

#include <set>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace doudi::calendar {

class WorkCalendar {
 public:
  // The calendar of one county (6-digit code): the State Council's days with the county's own
  // changes over them. An empty county: the State Council's days alone.
  static Result<WorkCalendar> Load(storage::Connection& conn, const std::string& county = {});
  // A make-up day is a working day; a holiday is not; otherwise Monday–Friday.
  bool IsWorkingDay(const std::string& date) const;
  // The n-th working day after `start` (the start day itself is not counted). n ≥ 0.
  std::string AddWorkingDays(const std::string& start, int n) const;
  // Working days in (from, to]: 0 when to ≤ from.
  int WorkingDaysBetween(const std::string& from, const std::string& to) const;

 private:
  std::set<std::string> holidays_, workdays_;
};

}  // namespace doudi::calendar

#include "calendar/service.h"

#include <map>
#include <mutex>

#include "audit/audit_log.h"
#include "common/date.h"
#include "common/json_input.h"

namespace doudi::calendar {
namespace {

using nlohmann::json;

// The calendars are small and change rarely: one per county, cached, invalidated by that
// county's holiday edits.
std::mutex g_cal_mu;
std::map<std::string, std::shared_ptr<const WorkCalendar>> g_cal;

void Invalidate(const std::string& county) {
  std::lock_guard<std::mutex> g(g_cal_mu);
  g_cal.erase(county);
}

std::string CountyOf(const auth::User& actor) { return actor.region_code.substr(0, 6); }

Status RequireCountyAdmin(const auth::User& actor) {
  return actor.role == auth::Role::kCountyAdmin ? Status::Ok() : Status::PermissionDenied("只有县级管理员可以维护节假日");
}

}  // namespace

Result<std::shared_ptr<const WorkCalendar>> ForCounty(storage::Connection& conn, const std::string& county) {
  std::lock_guard<std::mutex> g(g_cal_mu);
  auto& slot = g_cal[county];
  if (!slot) {
    DOUDI_ASSIGN_OR_RETURN(WorkCalendar c, WorkCalendar::Load(conn, county));
    slot = std::make_shared<const WorkCalendar>(std::move(c));
  }
  return slot;
}

Result<json> CalendarService::Holidays(const auth::User& actor, const std::string& year) {
  if (year.size() != 4 || year.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument("year", "年份应为4位数字");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  // The State Council's days with the user's county's own changes over them.
  auto rs = conn->Query("SELECT day, kind, name FROM holidays WHERE day >= ? AND day <= ? ORDER BY day",
                        {year + "-01-01", year + "-12-31"});
  if (!rs.ok()) return rs.status();
  auto own = conn->Query("SELECT day, kind, name FROM county_holidays WHERE county_code = ? AND day >= ? AND day <= ?",
                         {CountyOf(actor), year + "-01-01", year + "-12-31"});
  if (!own.ok()) return own.status();
  std::map<std::string, std::pair<std::string, std::string>> days;
  for (const auto& r : rs->rows) days[r.Text(0)] = {r.Text(1), r.Text(2)};
  for (const auto& r : own->rows) {
    if (r.Text(1) == "none") days.erase(r.Text(0));
    else days[r.Text(0)] = {r.Text(1), r.Text(2)};
  }
  json items = json::array();
  for (const auto& [day, v] : days) items.push_back({{"day", day}, {"kind", v.first}, {"name", v.second}});
  return json{{"items", items}};
}

// A county admin's edit is the county's own (county_holidays); the State Council's calendar
// (holidays, the reference data) is never changed through the API.
Result<json> CalendarService::SetHoliday(const auth::User& actor, const std::string& day, const json& body) {
  DOUDI_RETURN_IF_ERROR(RequireCountyAdmin(actor));
  int y, m, d;
  if (!ParseDate(day, &y, &m, &d)) return Status::InvalidArgument("day", "日期应为 YYYY-MM-DD");
  FieldReader r(body, "");
  std::string kind = r.String("kind", true);
  std::string name = r.String("name", true);
  if (!r.ok()) return r.status();
  if (kind != "holiday" && kind != "workday") return Status::InvalidArgument("kind", "类型应为 holiday 或 workday");
  if (name.size() > 100) return Status::InvalidArgument("name", "名称过长");
  const std::string county = CountyOf(actor);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto up = conn->Execute(
      "INSERT INTO county_holidays (county_code, day, kind, name) VALUES (?, ?, ?, ?) ON CONFLICT (county_code, day) "
      "DO UPDATE SET kind = excluded.kind, name = excluded.name",
      {county, day, kind, name});
  if (!up.ok()) return up.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"holiday.set", "holiday", day, county, "null",
                                            json{{"kind", kind}, {"name", name}, {"county", county}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  Invalidate(county);
  return json{{"day", day}, {"kind", kind}, {"name", name}};
}

// Makes the day an ordinary one for the admin's county: its own entry goes; a State Council
// day is overridden for this county only ('none'). 404 when the county's calendar has no entry.
Result<json> CalendarService::DeleteHoliday(const auth::User& actor, const std::string& day) {
  DOUDI_RETURN_IF_ERROR(RequireCountyAdmin(actor));
  int y, m, d;
  if (!ParseDate(day, &y, &m, &d)) return Status::NotFound("该日期不在节假日表中");
  const std::string county = CountyOf(actor);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto ref = conn->Query("SELECT 1 FROM holidays WHERE day = ?", {day});
  if (!ref.ok()) return ref.status();
  auto own = conn->Query("SELECT kind FROM county_holidays WHERE county_code = ? AND day = ?", {county, day});
  if (!own.ok()) return own.status();
  const bool in_reference = !ref->empty();
  const bool listed = own->empty() ? in_reference : own->rows[0].Text(0) != "none";
  if (!listed) return Status::NotFound("该日期不在节假日表中");
  auto w = in_reference
               ? conn->Execute("INSERT INTO county_holidays (county_code, day, kind, name) VALUES (?, ?, 'none', '') "
                               "ON CONFLICT (county_code, day) DO UPDATE SET kind = 'none', name = ''",
                               {county, day})
               : conn->Execute("DELETE FROM county_holidays WHERE county_code = ? AND day = ?", {county, day});
  if (!w.ok()) return w.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"holiday.delete", "holiday", day, county, "null",
                                            json{{"county", county}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  Invalidate(county);
  return json{{"day", day}, {"deleted", true}};
}

Result<json> CalendarService::WorkingDays(const auth::User& actor, const std::string& from, const std::string& days) {
  int y, m, d;
  if (!ParseDate(from, &y, &m, &d)) return Status::InvalidArgument("from", "日期应为 YYYY-MM-DD");
  if (days.empty() || days.size() > 3 || days.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument("days", "工作日数应为0到999的整数");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto cal, ForCounty(*conn, CountyOf(actor)));
  int n = std::stoi(days);
  return json{{"from", from}, {"days", n}, {"due", cal->AddWorkingDays(from, n)}};
}

}  // namespace doudi::calendar

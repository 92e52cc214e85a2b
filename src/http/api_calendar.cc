// /api/v1 resources of the calendar module (docs/api.md § Calendar): holidays and working days.
// Thin handlers over src/calendar/.
#include <memory>

#include "calendar/service.h"
#include "common/date.h"
#include "http/api.h"
#include "http/routes.h"

namespace doudi::http {

using nlohmann::json;

void RegisterCalendar(Router& router, Services& s) {
  auto svc = std::make_shared<calendar::CalendarService>(s.db);
  router.Add("GET", "/api/v1/holidays", PlainRoute([svc](Context& c) {
               std::string year = c.Query("year");
               return svc->Holidays(c.user(), year.empty() ? TodayShanghai().substr(0, 4) : year);
             }));
  router.Add("PUT", "/api/v1/holidays/{day}",
             BodyRoute(200, [svc](Context& c, const json& b) { return svc->SetHoliday(c.user(), c.params["day"], b); }));
  router.Add("DELETE", "/api/v1/holidays/{day}",
             PlainRoute([svc](Context& c) { return svc->DeleteHoliday(c.user(), c.params["day"]); }));
  router.Add("GET", "/api/v1/working-days",
             PlainRoute([svc](Context& c) { return svc->WorkingDays(c.user(), c.Query("from"), c.Query("days")); }));
}

}  // namespace doudi::http

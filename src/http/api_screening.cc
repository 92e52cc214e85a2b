// /api/v1 resources of the monthly screening (月排查): the households to visit, visit results
// and the month's Excel exports (list, public notice, report).
#include "common/date.h"
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {

using nlohmann::json;

void RegisterScreening(Router& router, Services& s) {
  router.Add("GET", "/api/v1/screening", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    std::string month = c.Query("month");
    if (month.empty()) month = TodayShanghai().substr(0, 7);
    DOUDI_ASSIGN_OR_RETURN(json out, s.screening.List(c.user(), month, c.Query("village"), c.Query("status"),
                                                      paging.first, paging.second));
    return Response::Json(200, out);
  });

  router.Add("POST", "/api/v1/screening/visits", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, s.screening.RecordVisit(c.user(), body));
    return Response::Json(out["version"].get<int64_t>() == 1 ? 201 : 200, out);
  });

  router.Add("GET", "/api/v1/screening/export", [&s](Context& c) -> Result<Response> {
    std::string month = c.Query("month");
    if (month.empty()) month = TodayShanghai().substr(0, 7);
    std::string kind = c.Query("kind");
    DOUDI_ASSIGN_OR_RETURN(auto wb, s.screening.Export(c.user(), month, kind));
    return Response::Xlsx(std::move(wb.bytes), wb.filename, "screening-" + kind + "-" + month + ".xlsx");
  });
}

}  // namespace doudi::http

// /api/v1 resources of the monitoring alerts: the indicators, the alerts and their actions, and
// the rectification report by town.
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {

using nlohmann::json;

void RegisterAlerts(Router& router, Services& s) {
  router.Add("GET", "/api/v1/monitor/indicators", [](Context&) -> Result<Response> {
    json items = json::array();
    for (const auto& i : monitoring::Indicators())
      items.push_back({{"id", i.id}, {"category", i.category}, {"severity", i.severity},
                       {"deadline_working_days", i.deadline_working_days}, {"description", i.description},
                       {"cite", i.cite}});
    return Response::Json(200, {{"items", items}});
  });

  router.Add("GET", "/api/v1/alerts", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    DOUDI_ASSIGN_OR_RETURN(json out, s.monitor.ListAlerts(c.user(), c.Query("status"), c.Query("indicator"),
                                                          paging.first, paging.second));
    return Response::Json(200, out);
  });

  router.Add("POST", "/api/v1/alerts/{id}/actions", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, s.monitor.ActAlert(c.user(), id, body));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/monitor/rectification", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, s.monitor.Rectification(c.user(), c.Query("month")));
    return Response::Json(200, out);
  });
}

}  // namespace doudi::http

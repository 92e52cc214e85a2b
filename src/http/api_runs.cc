// /api/v1 resources of the monthly monitoring runs (on demand, or as a background job) and of the
// background jobs long requests run as.
#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {

using nlohmann::json;

void RegisterMonitorRuns(Router& router, Services& s) {
  router.Add("POST", "/api/v1/monitor/runs", [&s](Context& c) -> Result<Response> {
    auto role = c.user().role;
    if (role != auth::Role::kCountyAdmin && role != auth::Role::kCountyReviewer)
      return Status::PermissionDenied("只有县级民政人员可以运行月度比对");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string month = r.String("month", true);
    bool async = r.Bool("async", false);
    if (!r.ok()) return r.status();
    const std::string county = CountyOf(c.user());
    if (async) {
      auto actor = c.user().actor();
      DOUDI_ASSIGN_OR_RETURN(json job, s.jobs.Start(c.user(), "monitor_run", "monitor:" + county,
                                                    [&monitor = s.monitor, actor, county,
                                                     month](const Jobs::Progress& progress) -> Result<json> {
                                                      DOUDI_ASSIGN_OR_RETURN(auto rep,
                                                                             monitor.Run(actor, county, month, progress));
                                                      return monitoring::ToJson(rep);
                                                    }));
      return Response::Json(202, {{"job", job}});
    }
    DOUDI_ASSIGN_OR_RETURN(auto rep, s.monitor.Run(c.user().actor(), county, month));
    return Response::Json(201, monitoring::ToJson(rep));
  });

  router.Add("GET", "/api/v1/monitor/runs", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    DOUDI_ASSIGN_OR_RETURN(json out, s.monitor.ListRuns(c.user(), paging.first, paging.second));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/jobs/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, s.jobs.Get(c.user(), c.params.at("id")));
    return Response::Json(200, out);
  });
}

}  // namespace doudi::http

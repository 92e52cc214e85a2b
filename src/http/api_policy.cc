// /api/v1 resources of the policy engine: evaluation, a household's determinations, the
// county's parameters, admin edits and simulation of a change.
#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {

using nlohmann::json;

void RegisterPolicy(Router& router, Services& s) {
  router.Add("POST", "/api/v1/eval", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadRegistry(c.user().role)) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Eval(CountyOf(c.user()), body, date));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/households/{id}/determinations", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.HouseholdDeterminations(c.user(), id, date));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/policy", [&s](Context& c) -> Result<Response> {
    if (c.user().role == auth::Role::kDepartmentLiaison) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Describe(CountyOf(c.user()), date));
    return Response::Json(200, out);
  });

  router.Add("POST", "/api/v1/policy/entries", [&s](Context& c) -> Result<Response> {
    if (c.user().role != auth::Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以修改政策参数");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string key = r.String("key", true);
    std::string from = r.String("from", false);
    std::string value = r.String("value", true);
    std::string basis = r.String("basis", false);
    std::string note = r.String("note", true);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.AddEntry(c.user(), key, from, value, basis, note));
    return Response::Json(201, out);
  });

  router.Add("POST", "/api/v1/policy/simulate", [&s](Context& c) -> Result<Response> {
    auto role = c.user().role;
    if (role != auth::Role::kCountyAdmin && role != auth::Role::kCountyReviewer && role != auth::Role::kSupervisor)
      return Status::PermissionDenied("只有县级人员可以进行政策模拟");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(r.String("date", false), "date"));
    const json* set = r.Object("set", true);
    if (!r.ok()) return r.status();
    std::vector<policy::SimulationChange> changes;
    for (auto it = set->begin(); it != set->end(); ++it) {
      if (!it.value().is_string() && !it.value().is_number())
        return Status::InvalidArgument("set." + it.key(), "取值应为字符串或数字");
      changes.push_back({it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump()});
    }
    if (changes.empty()) return Status::InvalidArgument("set", "请至少修改一个参数");
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Simulate(CountyOf(c.user()), date, changes));
    return Response::Json(200, out);
  });
}

}  // namespace doudi::http

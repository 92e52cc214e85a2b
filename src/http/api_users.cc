// /api/v1 resources of the user accounts (town and village staff; county admins and auditors
// are managed by the CLI).
#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {

using nlohmann::json;

void RegisterUsers(Router& router, Services& s) {
  router.Add("GET", "/api/v1/users", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    DOUDI_ASSIGN_OR_RETURN(auto page, s.auth.ListUsers(c.user(), paging.first, paging.second));
    json arr = json::array();
    for (const auto& u : page.items) arr.push_back(UserJson(u));
    return Response::Json(200, Page(std::move(arr), page.total, paging));
  });

  router.Add("POST", "/api/v1/users", [&s](Context& c) -> Result<Response> {
    if (!auth::CanManageUsers(c.user().role)) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    auth::NewUser in;
    in.username = r.String("username", true);
    in.password = r.String("password", true);
    in.display_name = r.String("display_name", true);
    in.role = r.String("role", true);
    in.region_code = r.String("region_code", true);
    in.department = r.String("department", false);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(auto u, s.auth.CreateUser(c.user(), in));
    return Response::Json(201, UserJson(u));
  });

  router.Add("PATCH", "/api/v1/users/{id}", [&s](Context& c) -> Result<Response> {
    if (!auth::CanManageUsers(c.user().role)) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    auth::UserPatch patch;
    patch.display_name = r.OptString("display_name");
    patch.disabled = r.OptBool("disabled");
    patch.password = r.OptString("password");
    patch.version = r.Int("version", true);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(auto u, s.auth.UpdateUser(c.user(), id, patch));
    return Response::Json(200, UserJson(u));
  });
}

}  // namespace doudi::http

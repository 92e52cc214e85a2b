// /api/v1 resources of the session: health, login (password and TOTP), the session itself,
// logout, the forced password change and TOTP enrolment.
#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"

namespace doudi::http {
namespace {

using nlohmann::json;

std::string SessionCookie(const std::string& token, int max_age) {
  return "doudi_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

}  // namespace

void RegisterSession(Router& router, Services& s) {
  router.Add("GET", "/api/v1/health", [&s](Context&) -> Result<Response> {
    return Response::Json(200, {{"status", "ok"}, {"db", s.db.kind()}});
  }, Access::kPublic);

  router.Add("POST", "/api/v1/session", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string username = r.String("username", true);
    std::string password = r.String("password", true);
    std::string totp_code = r.String("totp_code", false);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(auth::LoginResult login, s.auth.Login(username, password, totp_code));
    Response res = Response::Json(
        200, {{"user", UserJson(login.user)}, {"csrf_token", login.csrf_token}, {"pending", login.pending}});
    res.headers.emplace_back("Set-Cookie", SessionCookie(login.session_token, 12 * 3600));
    res.user_id = login.user.id;
    return res;
  }, Access::kPublic);

  router.Add("GET", "/api/v1/session", [](Context& c) -> Result<Response> {
    return Response::Json(200, {{"user", UserJson(c.user())},
                                {"csrf_token", c.principal->csrf_token},
                                {"pending", c.principal->pending}});
  }, Access::kPendingSession);

  router.Add("DELETE", "/api/v1/session", [&s](Context& c) -> Result<Response> {
    DOUDI_RETURN_IF_ERROR(s.auth.Logout(CookieValue(c.req.cookie, "doudi_session")));
    Response res = Response::NoContent();
    res.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
    return res;
  }, Access::kPendingSession);

  router.Add("POST", "/api/v1/session/password", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string old_password = r.String("old_password", true);
    std::string new_password = r.String("new_password", true);
    if (!r.ok()) return r.status();
    DOUDI_RETURN_IF_ERROR(s.auth.ChangePassword(*c.principal, CookieValue(c.req.cookie, "doudi_session"),
                                                old_password, new_password));
    DOUDI_ASSIGN_OR_RETURN(auto p, s.auth.Authenticate(CookieValue(c.req.cookie, "doudi_session")));
    return Response::Json(200, {{"user", UserJson(p.user)}, {"csrf_token", p.csrf_token}, {"pending", p.pending}});
  }, Access::kPendingSession);

  router.Add("POST", "/api/v1/session/totp", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto e, s.auth.BeginTotp(*c.principal));
    return Response::Json(200, {{"secret", e.secret}, {"otpauth_uri", e.uri}});
  }, Access::kPendingSession);

  router.Add("POST", "/api/v1/session/totp/confirm", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string code = r.String("code", true);
    if (!r.ok()) return r.status();
    DOUDI_RETURN_IF_ERROR(s.auth.ConfirmTotp(*c.principal, code));
    DOUDI_ASSIGN_OR_RETURN(auto p, s.auth.Authenticate(CookieValue(c.req.cookie, "doudi_session")));
    return Response::Json(200, {{"user", UserJson(p.user)}, {"csrf_token", p.csrf_token}, {"pending", p.pending}});
  }, Access::kPendingSession);
}

}  // namespace doudi::http

// HTTP-independent request routing: path patterns, authentication, CSRF and error mapping.
// The Beast server (server.h) turns wire requests into Request and Response into bytes.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "common/status.h"

namespace doudi::http {

struct Request {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string body;
  std::string cookie;      // raw Cookie header
  std::string csrf_token;  // X-CSRF-Token header
  std::string remote;      // the client's address (for rate limits), e.g. "127.0.0.1"
  std::string content_type;  // Content-Type header
  // The session, authenticated on the request's header (Router::Admit) before its body was
  // read; Handle uses it instead of authenticating again. Null: Handle authenticates.
  std::shared_ptr<const auth::Principal> principal;
  std::string idempotency_key;  // Idempotency-Key header (creates; see http/idempotency.h)
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t user_id = 0;  // for the access log only

  static Response Json(int status, const nlohmann::json& body);
  // An .xlsx download named `filename` (Chinese; `fallback` is the ASCII name for old clients).
  static Response Xlsx(std::string bytes, const std::string& filename, const std::string& fallback);
  static Response NoContent() { return Response{204, "", "", {}, 0}; }
};

// Maps a Status to its HTTP status and JSON error body (the one place that does this).
Response ErrorResponse(const Status& s);
int HttpStatusOf(const Status& s);
// Logs a 5xx status's detail (one line) with the request it answered; returns the status.
const Status& LogIfServerError(std::string_view method, std::string_view path, const Status& s);

struct Context {
  const Request& req;
  std::map<std::string, std::string> params;  // from {name} segments
  const auth::Principal* principal = nullptr;  // null on public routes

  const auth::User& user() const { return principal->user; }
  // Path parameter as a positive integer id; NotFound otherwise (a bad id is a missing resource).
  Result<int64_t> IdParam(const std::string& name) const;
  // Query parameter helpers; paging is clamped to page ≥ 1 and 1 ≤ page_size ≤ 200.
  std::string Query(const std::string& name) const;
  Result<std::pair<int64_t, int64_t>> Paging() const;
  // Parses the body as a JSON object (400 malformed_json otherwise; 415 unsupported_media_type
  // for a body sent with another Content-Type than application/json).
  Result<nlohmann::json> JsonBody() const;
};

using Handler = std::function<Result<Response>(Context&)>;
// Something a route's handler must wait for that the server can wait for without holding a
// thread (the registry cache catching up with the change feed): called with `ready`, it calls
// ready(within) on any thread when the wait is over; the server then runs the handler
// through within(…).
using Within = std::function<void(const std::function<void()>&)>;
using RouteWait = std::function<void(std::function<void(Within)> ready)>;

// kSession refuses a session that still has a pending step (auth::Principal::pending: a
// password to change, a second factor to enrol) with 403 password_change_required or
// totp_enrolment_required; kPendingSession lets it through (the few routes that do the step).
enum class Access { kPublic, kSession, kPendingSession };

// What the server does with a request whose header has arrived (Router::Admit).
struct Admission {
  std::optional<Response> refusal;  // answer this at once, without reading the body
  size_t body_limit = 0;            // the route's own body limit; 0: the server's default
};

// True for a JSON media type ("application/json", any case, parameters allowed).
bool IsJsonMediaType(std::string_view content_type);
// True for a path the router serves at all: it begins with '/' and holds no control byte
// (decoded %00 to %1F or %7F).
bool PathAcceptable(std::string_view path);

class Router {
 public:
  explicit Router(auth::AuthService& auth) : auth_(auth) {}
  // pattern like "/api/v1/households/{id}". Routes requiring a session also require the
  // CSRF header on POST/PUT/PATCH/DELETE unless csrf_exempt (login).
  void Add(const std::string& method, const std::string& pattern, Handler h, Access access = Access::kSession,
           bool csrf_exempt = false);
  // The wait of the route added last (none when `wait` is empty).
  void SetWait(RouteWait wait) {
    has_waits_ = has_waits_ || wait;
    routes_.back().wait = std::move(wait);
  }
  // What the route added last accepts before its body is read: a body limit (0: the server's
  // default) and the roles that may call it (empty: any, refused with `denied` otherwise).
  // Both apply on the request's header (Admit), before its body is read, and again in Handle.
  void SetBodyRule(size_t body_limit, std::vector<auth::Role> roles, std::string denied = "无权执行此操作") {
    routes_.back().body_limit = body_limit;
    routes_.back().roles = std::move(roles);
    routes_.back().denied = std::move(denied);
  }
  // Called once the request's header has arrived (req without its body): finds the route and,
  // for a session route, authenticates the session (kept in req.principal for Handle), checks
  // the CSRF header and the route's roles. A refusal (unknown route, wrong method, no session,
  // role, CSRF, a path never served) is answered without reading the body.
  Admission Admit(Request& req);
  // The wait of the route a request goes to, or null.
  const RouteWait* WaitOf(const Request& req) const;
  // Serves built web-app files from dir (SPA fallback to index.html). Empty: no static files.
  void SetStaticDir(std::string dir);

  Response Handle(const Request& req);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    Access access;
    bool csrf_exempt;
    RouteWait wait;
    size_t body_limit = 0;
    std::vector<auth::Role> roles;
    std::string denied;
  };
  // The route of (method, path segments) or null; *path_matched tells 405 from 404.
  const Route* Find(const std::string& method, const std::vector<std::string>& segs,
                    std::map<std::string, std::string>* params, bool* path_matched) const;
  // A session route's checks once the principal is known: CSRF header, roles.
  static Status Check(const Route& route, const Request& req, const auth::Principal& principal);
  Response ServeStatic(const std::string& path);

  auth::AuthService& auth_;
  std::vector<Route> routes_;
  bool has_waits_ = false;
  std::string static_dir_;
  std::filesystem::path static_root_;  // static_dir_, canonical: served files lie inside it
  std::mutex static_mu_;
  struct CachedFile {
    std::shared_ptr<const std::string> content;
    std::filesystem::file_time_type mtime;
  };
  std::unordered_map<std::string, CachedFile> static_cache_;
};

// Extracts a cookie value from a Cookie header.
std::string CookieValue(const std::string& header, const std::string& name);
// Decodes %XX and '+' in query components.
std::string UrlDecode(const std::string& s);

}  // namespace doudi::http

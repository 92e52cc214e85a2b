// HTTP-independent request routing: path patterns, authentication, CSRF and error mapping.
// The Beast server (server.h) turns wire requests into Request and Response into bytes.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
  // Parses the body as a JSON object (400 malformed_json otherwise).
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
  // The wait of the route a request goes to, or null.
  const RouteWait* WaitOf(const Request& req) const;
  // Serves built web-app files from dir (SPA fallback to index.html). Empty: no static files.
  void SetStaticDir(std::string dir) { static_dir_ = std::move(dir); }

  Response Handle(const Request& req);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    Access access;
    bool csrf_exempt;
    RouteWait wait;
  };
  Response ServeStatic(const std::string& path);

  auth::AuthService& auth_;
  std::vector<Route> routes_;
  bool has_waits_ = false;
  std::string static_dir_;
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

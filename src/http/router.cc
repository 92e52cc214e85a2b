#include "http/router.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_input.h"

namespace doudi::http {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool Mutating(const std::string& m) { return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"; }

const char* MimeType(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".woff")) return "font/woff";
  if (ends(".ttf")) return "font/ttf";
  return "application/octet-stream";
}

}  // namespace

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kConflict:
    case Code::kFailedPrecondition: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kLocked: return 423;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
  }
  return 500;
}

Response Response::Xlsx(std::string bytes, const std::string& filename, const std::string& fallback) {
  // RFC 6266/5987: filename* carries the UTF-8 name, filename the ASCII fallback.
  static const char* kHex = "0123456789ABCDEF";
  std::string enc;
  for (unsigned char c : filename) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') enc += static_cast<char>(c);
    else enc += std::string("%") + kHex[c >> 4] + kHex[c & 15];
  }
  Response r;
  r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  r.body = std::move(bytes);
  r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + enc});
  return r;
}

// The client sees a generic message for a 5xx; the log gets the detail (no personal data: the
// backends' details are the statement's text and the database's primary message).
const Status& LogIfServerError(std::string_view method, std::string_view path, const Status& s) {
  if (HttpStatusOf(s) < 500) return s;
  std::string detail = s.detail();  // one log line: libpq's messages end in newlines
  std::replace(detail.begin(), detail.end(), '\n', ' ');
  spdlog::error("{} {}: {}", method, path, detail);
  return s;
}

Response ErrorResponse(const Status& s) {
  return Response::Json(HttpStatusOf(s),
                        {{"error", {{"code", s.reason()}, {"message", s.message()}, {"field", s.field()}}}});
}

Result<int64_t> Context::IdParam(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty() || it->second.size() > 18) return Status::NotFound();
  for (char c : it->second)
    if (c < '0' || c > '9') return Status::NotFound();
  return std::stoll(it->second);
}

std::string Context::Query(const std::string& name) const {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

Result<std::pair<int64_t, int64_t>> Context::Paging() const {
  auto parse = [&](const char* key, int64_t def, int64_t lo, int64_t hi) -> Result<int64_t> {
    std::string v = Query(key);
    if (v.empty()) return def;
    if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      return Status::InvalidArgument(key, "应为正整数");
    int64_t n = std::stoll(v);
    if (n < lo || n > hi) return Status::InvalidArgument(key, "超出允许范围");
    return n;
  };
  DOUDI_ASSIGN_OR_RETURN(int64_t page, parse("page", 1, 1, 1'000'000));
  DOUDI_ASSIGN_OR_RETURN(int64_t size, parse("page_size", 20, 1, 200));
  return std::make_pair(page, size);
}

bool IsJsonMediaType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (type.size() != kJson.size()) return false;
  for (size_t i = 0; i < type.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  return true;
}

bool PathAcceptable(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// A JSON body must say so: a cross-site form can send text/plain, urlencoded or multipart
// bodies without a preflight, never application/json.
Result<nlohmann::json> Context::JsonBody() const {
  if (!req.body.empty() && !IsJsonMediaType(req.content_type))
    return Status(Code::kUnsupportedMediaType, "unsupported_media_type", "请求内容类型应为 application/json");
  return ParseJsonObject(req.body);
}

void Router::Add(const std::string& method, const std::string& pattern, Handler h, Access access, bool csrf_exempt) {
  routes_.push_back({method, SplitPath(pattern), std::move(h), access, csrf_exempt, {}, 0, {}, {}});
}

void Router::SetStaticDir(std::string dir) {
  static_dir_ = std::move(dir);
  std::error_code ec;
  static_root_ = static_dir_.empty() ? std::filesystem::path() : std::filesystem::weakly_canonical(static_dir_, ec);
  if (ec) static_root_ = std::filesystem::absolute(static_dir_, ec).lexically_normal();
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';')) ++pos;
    size_t eq = header.find('=', pos);
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    if (eq != std::string::npos && eq < end && header.compare(pos, eq - pos, name) == 0)
      return header.substr(eq + 1, end - eq - 1);
    pos = end + 1;
  }
  return {};
}

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

const Router::Route* Router::Find(const std::string& method, const std::vector<std::string>& segs,
                                  std::map<std::string, std::string>* params, bool* path_matched) const {
  for (const auto& route : routes_) {  // the first match
    if (route.segments.size() != segs.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i) {
      const std::string& p = route.segments[i];
      match = (p.size() > 2 && p.front() == '{' && p.back() == '}') || p == segs[i];
    }
    if (!match) continue;
    if (path_matched) *path_matched = true;
    if (route.method != method) continue;
    if (params) {
      for (size_t i = 0; i < segs.size(); ++i) {
        const std::string& p = route.segments[i];
        if (p.size() > 2 && p.front() == '{' && p.back() == '}') (*params)[p.substr(1, p.size() - 2)] = segs[i];
      }
    }
    return &route;
  }
  return nullptr;
}

const RouteWait* Router::WaitOf(const Request& req) const {
  if (!has_waits_ || req.path.rfind("/api/", 0) != 0) return nullptr;
  const Route* route = Find(req.method, SplitPath(req.path), nullptr, nullptr);
  return route && route->wait ? &route->wait : nullptr;
}

namespace {
Response NoRoute(bool path_matched) {
  if (!path_matched) return ErrorResponse(Status::NotFound("接口不存在"));
  Response r = ErrorResponse(Status(Code::kInvalidArgument, "method_not_allowed", "不支持该请求方法"));
  r.status = 405;
  return r;
}
}  // namespace

Status Router::Check(const Route& route, const Request& req, const auth::Principal& principal) {
  // A session with a step still to take (a forced password change, TOTP enrolment) reaches
  // only the routes that take it (Access::kPendingSession).
  if (route.access == Access::kSession && !principal.pending.empty()) {
    return principal.pending == "password_change"
               ? Status(Code::kPermissionDenied, "password_change_required", "请先修改密码")
               : Status(Code::kPermissionDenied, "totp_enrolment_required", "请先绑定动态验证码");
  }
  if (Mutating(req.method) && !route.csrf_exempt &&
      (req.csrf_token.size() != principal.csrf_token.size() ||
       sodium_memcmp(req.csrf_token.data(), principal.csrf_token.data(), req.csrf_token.size()) != 0)) {
    return Status(Code::kPermissionDenied, "csrf_failed", "请求校验失败，请刷新页面后重试");
  }
  if (!route.roles.empty() && std::find(route.roles.begin(), route.roles.end(), principal.user.role) == route.roles.end())
    return Status::PermissionDenied(route.denied);
  return Status::Ok();
}

Admission Router::Admit(Request& req) {
  Admission a;
  if (!PathAcceptable(req.path)) {
    a.refusal = ErrorResponse(Status::NotFound("页面不存在"));
    return a;
  }
  if (req.path.rfind("/api/", 0) != 0) {
    if (req.method != "GET" && req.method != "HEAD") a.refusal = ErrorResponse(Status::NotFound("页面不存在"));
    return a;
  }
  bool path_matched = false;
  const Route* route = Find(req.method, SplitPath(req.path), nullptr, &path_matched);
  if (!route) {
    a.refusal = NoRoute(path_matched);
    return a;
  }
  if (route->access != Access::kPublic) {
    auto p = auth_.Authenticate(CookieValue(req.cookie, "doudi_session"));
    if (!p.ok()) {
      a.refusal = ErrorResponse(LogIfServerError(req.method, req.path, p.status()));
      return a;
    }
    auto principal = std::make_shared<const auth::Principal>(std::move(p).value());
    if (Status st = Check(*route, req, *principal); !st.ok()) {
      a.refusal = ErrorResponse(st);
      a.refusal->user_id = principal->user.id;
      return a;
    }
    req.principal = std::move(principal);
  }
  a.body_limit = route->body_limit;
  return a;
}

Response Router::Handle(const Request& req) {
  if (!PathAcceptable(req.path)) return ErrorResponse(Status::NotFound("页面不存在"));
  if (req.path.rfind("/api/", 0) != 0) {
    if (req.method != "GET" && req.method != "HEAD") return ErrorResponse(Status::NotFound("页面不存在"));
    return ServeStatic(req.path);
  }
  std::map<std::string, std::string> params;
  bool path_matched = false;
  const Route* route = Find(req.method, SplitPath(req.path), &params, &path_matched);
  if (!route) return NoRoute(path_matched);

  Context ctx{req, std::move(params), nullptr};
  auth::Principal principal;
  if (route->access != Access::kPublic) {
    if (req.principal) {  // authenticated on the header
      ctx.principal = req.principal.get();
    } else {
      auto p = auth_.Authenticate(CookieValue(req.cookie, "doudi_session"));
      if (!p.ok()) return ErrorResponse(LogIfServerError(req.method, req.path, p.status()));
      principal = std::move(p).value();
      ctx.principal = &principal;
    }
    if (Status st = Check(*route, req, *ctx.principal); !st.ok()) {
      Response r = ErrorResponse(st);
      r.user_id = ctx.principal->user.id;
      return r;
    }
  }
  Result<Response> res = route->handler(ctx);
  Response out = res.ok() ? std::move(res).value() : ErrorResponse(LogIfServerError(req.method, req.path, res.status()));
  out.user_id = ctx.principal ? ctx.principal->user.id : 0;
  return out;
}

Response Router::ServeStatic(const std::string& path) {
  if (static_dir_.empty()) return ErrorResponse(Status::NotFound("页面不存在"));
  std::string rel = path == "/" ? "/index.html" : path;
  if (!PathAcceptable(rel) || rel.find("..") != std::string::npos || rel.find('\\') != std::string::npos)
    return ErrorResponse(Status::NotFound("页面不存在"));
  // Files are cached in memory and re-read when their modification time changes, so a new
  // web build is served without a restart.
  auto load = [this](const std::string& rel_path) -> std::shared_ptr<const std::string> {
    std::error_code ec;
    // The file, resolved (symbolic links, "."), must lie inside the web root: never a
    // sibling such as <root>-private or <root>.bak.
    std::filesystem::path file = std::filesystem::weakly_canonical(static_root_ / rel_path.substr(1), ec);
    if (ec) return nullptr;
    const std::string& root = static_root_.native();
    const std::string& resolved = file.native();
    if (resolved.size() <= root.size() + 1 || resolved.compare(0, root.size(), root) != 0 || resolved[root.size()] != '/')
      return nullptr;
    if (!std::filesystem::is_regular_file(file, ec)) return nullptr;
    auto mtime = std::filesystem::last_write_time(file, ec);
    if (ec) return nullptr;
    std::lock_guard<std::mutex> g(static_mu_);
    auto it = static_cache_.find(rel_path);
    if (it != static_cache_.end() && it->second.mtime == mtime) return it->second.content;
    std::ifstream in(file, std::ios::binary);
    if (!in) return nullptr;
    std::ostringstream ss;
    ss << in.rdbuf();
    auto content = std::make_shared<const std::string>(ss.str());
    static_cache_[rel_path] = {content, mtime};
    return content;
  };
  auto content = load(rel);
  bool is_index = rel == "/index.html";
  if (!content) {
    size_t slash = rel.rfind('/');
    if (rel.find('.', slash) != std::string::npos) return ErrorResponse(Status::NotFound("页面不存在"));
    content = load("/index.html");  // SPA route
    is_index = true;
    if (!content) return ErrorResponse(Status::NotFound("页面不存在"));
  }
  Response r;
  r.content_type = is_index ? "text/html; charset=utf-8" : MimeType(rel);
  r.body = *content;
  r.headers.emplace_back("Cache-Control", rel.rfind("/assets/", 0) == 0 ? "public, max-age=31536000, immutable"
                                                                          : "no-cache");
  return r;
}

}  // namespace doudi::http

// The public pages' resources (docs/api.md § Public): no session. The progress lookup and the
// online application are limited (issue 17 #1, #11). Thin handlers over src/public_pages/.
#include <memory>

#include "common/citizen_id.h"
#include "http/api.h"
#include "http/routes.h"
#include "public_pages/public_pages.h"

namespace doudi::http {
namespace {

using nlohmann::json;

// 429 too_many_requests with Retry-After (seconds); the message says when, in minutes.
Response TooManyRequests(int64_t retry_after, const std::string& message) {
  int64_t minutes = (retry_after + 59) / 60;
  Response r = ErrorResponse(Status(Code::kPermissionDenied, "too_many_requests",
                                    message + "（约 " + std::to_string(minutes) + " 分钟后可再试）"));
  r.status = 429;
  r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

}  // namespace

void RegisterPublic(Router& router, Services& s) {
  auto svc = std::make_shared<public_pages::PublicService>(s.db, s.policy);
  // Public pages: no session. The progress lookup and the online application are limited
  // (issue 17 #1, #11): failed lookups per case number and per client address, applications
  // per client address and in all; beyond a limit 429 with Retry-After.
  router.Add("GET", "/api/v1/public/notices", [svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, svc->Notices(c.Query("village")));
    return Response::Json(200, out);
  }, Access::kPublic);
  const PublicLimitOptions& lim = s.public_limits;
  auto submit_addr = std::make_shared<RateLimiter>(lim.submits_per_address, std::chrono::seconds(lim.submit_window_seconds));
  auto submit_all = std::make_shared<RateLimiter>(lim.submits_total, std::chrono::seconds(lim.submit_window_seconds));
  router.Add("POST", "/api/v1/public/applications", [svc, submit_addr, submit_all](Context& c) -> Result<Response> {
    const std::string addr = ClientKey(c.req.remote);
    if (int64_t wait = submit_addr->Acquire(addr))
      return TooManyRequests(wait, "本机提交的网上申请过多，请稍后再试，或到村（社区）、镇（街道）窗口申请");
    if (int64_t wait = submit_all->Acquire("*")) {
      submit_addr->Release(addr);
      return TooManyRequests(wait, "网上申请提交量过大，请稍后再试，或到村（社区）、镇（街道）窗口申请");
    }
    auto out = [&]() -> Result<json> {
      DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
      return svc->Submit(body);
    }();
    if (!out.ok()) {  // nothing was written: the try does not count
      if (out.status().reason() != "outcome_unknown") {
        submit_addr->Release(addr);
        submit_all->Release("*");
      }
      return out.status();
    }
    return Response::Json(201, *out);
  }, Access::kPublic);
  auto lookup_case = std::make_shared<RateLimiter>(lim.lookup_failures_per_case, std::chrono::seconds(lim.lookup_window_seconds));
  auto lookup_addr = std::make_shared<RateLimiter>(lim.lookup_failures_per_address, std::chrono::seconds(lim.lookup_window_seconds));
  router.Add("GET", "/api/v1/public/applications/{case_no}", [svc, lookup_case, lookup_addr](Context& c) -> Result<Response> {
    const std::string phone = c.Query("phone_last4");
    if (phone.size() != 4 || phone.find_first_not_of("0123456789") != std::string::npos)
      return Status::InvalidArgument("phone_last4", "请填写申请时所留联系电话的后四位数字");
    // A failure is reserved before the lookup (a parallel burst cannot pass more tries than
    // the limit) and given back when the lookup succeeds.
    const std::string addr = ClientKey(c.req.remote);
    const std::string case_key = c.params["case_no"].substr(0, 64);
    static const char* kTooMany = "查询失败次数过多，请稍后再试；如有疑问请联系受理的镇（街道）";
    if (int64_t wait = lookup_addr->Acquire(addr)) return TooManyRequests(wait, kTooMany);
    if (int64_t wait = lookup_case->Acquire(case_key)) {
      lookup_addr->Release(addr);
      return TooManyRequests(wait, kTooMany);
    }
    auto out = svc->Progress(c.params["case_no"], c.Query("citizen_id"), phone);
    if (out.ok() || out.status().code() != Code::kNotFound) {
      lookup_addr->Release(addr);
      lookup_case->Release(case_key);
    }
    if (!out.ok()) return out.status();
    return Response::Json(200, *out);
  }, Access::kPublic);
  router.Add("GET", "/api/v1/public/regions", [&s](Context& c) -> Result<Response> {
    // The county → town → village tree for the online form (names and codes are public).
    std::string parent = c.Query("parent");
    if (LevelOfCode(parent) == RegionLevel::kInvalid || LevelOfCode(parent) == RegionLevel::kVillage)
      return Status::InvalidArgument("parent", "请提供县或镇（街道）区划代码");
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, s.db.Acquire());
    auto rs = conn->Query("SELECT code, name, level FROM regions WHERE parent_code = ? ORDER BY code", {parent});
    if (!rs.ok()) return rs.status();
    json items = json::array();
    for (const auto& r : rs->rows) items.push_back({{"code", r.Text(0)}, {"name", r.Text(1)}, {"level", r.Text(2)}});
    return Response::Json(200, {{"items", items}});
  }, Access::kPublic);
}

}  // namespace doudi::http

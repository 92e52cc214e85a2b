// /api/v1 resources of the workflow (docs/workflow.md): thin handlers over CaseService.
#include "http/api.h"

#include "common/citizen_id.h"
#include "cases/notices.h"
#include "common/date.h"
#include "http/idempotency.h"

#include <memory>

namespace doudi::http {
namespace {

using nlohmann::json;

Result<cases::Page> PageOf(Context& c) {
  DOUDI_ASSIGN_OR_RETURN(auto p, c.Paging());
  return cases::Page{p.first, p.second};
}

Response Ok(int status, json body) { return Response::Json(status, body); }

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

void RegisterCases(Router& router, Services& s) {
  auto& svc = s.cases;
  router.Add("POST", "/api/v1/applications", Idempotent(s.db, [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Create(c.user(), body));
    return Ok(201, out);
  }));
  router.Add("GET", "/api/v1/applications", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.List(c.user(), c.Query("state"), c.Query("q"), c.Query("village"),
                                              c.Query("sort"), page));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/applications/{id}", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Get(c.user(), id));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/applications/{id}/timeline", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Timeline(c.user(), id));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/applications/{id}/actions", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Act(c.user(), id, body));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/households/{id}/file", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.HouseholdFile(c.user(), id));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/notices/{id}", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.GetNotice(c.user(), id));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/notices/{id}/print", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.GetNotice(c.user(), id));
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = cases::PrintableNotice(out["html"].get<std::string>());
    return r;
  });
  router.Add("GET", "/api/v1/enrollments", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListEnrollments(c.user(), c.Query("status"), page));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/enrollments/{id}/actions", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ActEnrollment(c.user(), id, body));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/applications/{id}/attachments", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.AddAttachment(c.user(), id, body));
    return Ok(201, out);
  });
  router.Add("GET", "/api/v1/attachments/{id}", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    std::string type;
    DOUDI_ASSIGN_OR_RETURN(std::string bytes, svc.GetAttachment(c.user(), id, &type));
    Response r;
    r.content_type = type;
    r.body = std::move(bytes);
    return r;
  });
  router.Add("GET", "/api/v1/verification-requests", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListVerificationRequests(c.user(), page, c.Query("direction")));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/verification-requests/{id}/answer", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.AnswerVerificationRequest(c.user(), id, body));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/referrals", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListReferrals(c.user(), c.Query("status"), page));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/referrals/{id}/actions", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ActReferral(c.user(), id, body));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/emergency-aid", Idempotent(s.db, [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.CreateEmergency(c.user(), body));
    return Ok(201, out);
  }));
  router.Add("GET", "/api/v1/emergency-aid", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListEmergency(c.user(), page));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/emergency-aid/{id}/actions", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ActEmergency(c.user(), id, body));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/reserve-funds", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ReserveFunds(c.user()));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/reserve-funds/{town}/deposits", Idempotent(s.db, [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Deposit(c.user(), c.params["town"], body));
    return Ok(201, out);
  }));
  router.Add("GET", "/api/v1/credit", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListCredit(c.user(), page));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/credit", Idempotent(s.db, [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.AddCredit(c.user(), body));
    return Ok(201, out);
  }));
  router.Add("POST", "/api/v1/credit/{id}/repay", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Repay(c.user(), id));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/staff-relatives", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto page, PageOf(c));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.ListRelatives(c.user(), page));
    return Ok(200, out);
  });
  router.Add("POST", "/api/v1/staff-relatives", Idempotent(s.db, [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.AddRelative(c.user(), body));
    return Ok(201, out);
  }));
  router.Add("GET", "/api/v1/holidays", [&svc](Context& c) -> Result<Response> {
    std::string year = c.Query("year");
    DOUDI_ASSIGN_OR_RETURN(json out, svc.Holidays(c.user(), year.empty() ? TodayShanghai().substr(0, 4) : year));
    return Ok(200, out);
  });
  router.Add("PUT", "/api/v1/holidays/{day}", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, svc.SetHoliday(c.user(), c.params["day"], body));
    return Ok(200, out);
  });
  router.Add("DELETE", "/api/v1/holidays/{day}", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, svc.DeleteHoliday(c.user(), c.params["day"]));
    return Ok(200, out);
  });
  router.Add("GET", "/api/v1/working-days", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, svc.WorkingDays(c.user(), c.Query("from"), c.Query("days")));
    return Ok(200, out);
  });

  // Public pages: no session. The progress lookup and the online application are limited
  // (issue 17 #1, #11): failed lookups per case number and per client address, applications
  // per client address and in all; beyond a limit 429 with Retry-After.
  router.Add("GET", "/api/v1/public/notices", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json out, svc.PublicNotices(c.Query("village")));
    return Ok(200, out);
  }, Access::kPublic);
  const PublicLimitOptions& lim = s.public_limits;
  auto submit_addr = std::make_shared<RateLimiter>(lim.submits_per_address, std::chrono::seconds(lim.submit_window_seconds));
  auto submit_all = std::make_shared<RateLimiter>(lim.submits_total, std::chrono::seconds(lim.submit_window_seconds));
  router.Add("POST", "/api/v1/public/applications", [&svc, submit_addr, submit_all](Context& c) -> Result<Response> {
    const std::string addr = ClientKey(c.req.remote);
    if (int64_t wait = submit_addr->Acquire(addr))
      return TooManyRequests(wait, "本机提交的网上申请过多，请稍后再试，或到村（社区）、镇（街道）窗口申请");
    if (int64_t wait = submit_all->Acquire("*")) {
      submit_addr->Release(addr);
      return TooManyRequests(wait, "网上申请提交量过大，请稍后再试，或到村（社区）、镇（街道）窗口申请");
    }
    auto out = [&]() -> Result<json> {
      DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
      return svc.PublicSubmit(body);
    }();
    if (!out.ok()) {  // nothing was written: the try does not count
      if (out.status().reason() != "outcome_unknown") {
        submit_addr->Release(addr);
        submit_all->Release("*");
      }
      return out.status();
    }
    return Ok(201, *out);
  }, Access::kPublic);
  auto lookup_case = std::make_shared<RateLimiter>(lim.lookup_failures_per_case, std::chrono::seconds(lim.lookup_window_seconds));
  auto lookup_addr = std::make_shared<RateLimiter>(lim.lookup_failures_per_address, std::chrono::seconds(lim.lookup_window_seconds));
  router.Add("GET", "/api/v1/public/applications/{case_no}", [&svc, lookup_case, lookup_addr](Context& c) -> Result<Response> {
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
    auto out = svc.PublicProgress(c.params["case_no"], c.Query("citizen_id"), phone);
    if (out.ok() || out.status().code() != Code::kNotFound) {
      lookup_addr->Release(addr);
      lookup_case->Release(case_key);
    }
    if (!out.ok()) return out.status();
    return Ok(200, *out);
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
    return Ok(200, {{"items", items}});
  }, Access::kPublic);
}

}  // namespace doudi::http

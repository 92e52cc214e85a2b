// /api/v1 resources of dynamic monitoring: feed upload, monthly runs, alerts, rectification,
// monthly screening with its Excel exports, and the background jobs long requests run as.
#include <sodium.h>

#include <algorithm>

#include "common/json_input.h"
#include "http/api.h"
#include "common/date.h"
#include "monitoring/feeds.h"

namespace doudi::http {
namespace {
using nlohmann::json;
}  // namespace

void RegisterMonitoring(Router& router, Services& s) {
  router.Add("GET", "/api/v1/feeds/sources", [](Context&) -> Result<Response> {
    json items = json::array();
    for (const auto& src : monitoring::FeedSources()) {
      json cols = json::array();
      for (const auto& c : src.columns) cols.push_back({{"key", c.key}, {"label", c.label}, {"required", c.required}});
      items.push_back({{"kind", src.kind}, {"label", src.label}, {"department", src.department}, {"columns", cols}});
    }
    return Response::Json(200, {{"items", items}});
  });

  router.Add("GET", "/api/v1/feeds", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    DOUDI_ASSIGN_OR_RETURN(json out, s.monitor.ListFeeds(c.user(), paging.first, paging.second));
    return Response::Json(200, out);
  });

  // Upload: the browser converts .xlsx to CSV (exceljs) and sends the CSV text (UTF-8) or the
  // raw file bytes in base64 (GB18030 CSV as exported by Excel).
  router.Add("POST", "/api/v1/feeds", [&s](Context& c) -> Result<Response> {
    auto role = c.user().role;
    if (role != auth::Role::kCountyAdmin && role != auth::Role::kCountyReviewer && role != auth::Role::kDepartmentLiaison)
      return Status::PermissionDenied("只有县级民政人员和部门联络员可以上传部门数据");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string source = r.String("source", true);
    std::string month = r.String("month", true);
    std::string filename = r.String("filename", false, "upload.csv");
    auto b64 = r.OptString("content_base64");
    bool async = r.Bool("async", false);
    if (!r.ok()) return r.status();
    // csv_text is a whole file: line breaks and tabs belong to it (not read through FieldReader,
    // which refuses control characters in form fields); NUL never does.
    std::optional<std::string> csv;
    if (body.contains("csv_text") && !body["csv_text"].is_null()) {
      if (!body["csv_text"].is_string()) return Status::InvalidArgument("csv_text", "应为字符串");
      csv = body["csv_text"].get<std::string>();
      if (csv->find('\0') != std::string::npos) return Status::InvalidArgument("csv_text", "文件内容不能包含 NUL 字符");
    }
    std::string bytes;
    if (csv) {
      bytes = *csv;
    } else if (b64) {
      bytes.resize(b64->size());
      size_t len = 0;
      if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), b64->c_str(), b64->size(),
                            "\n\r ", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        return Status::InvalidArgument("content_base64", "文件内容不是有效的 Base64 编码");
      bytes.resize(len);
    } else {
      return Status::InvalidArgument("csv_text", "请上传文件内容");
    }
    const std::string county = c.user().region_code.substr(0, 6);
    DOUDI_RETURN_IF_ERROR(monitoring::CheckFeedTarget(source, month));
    if (async) {
      // Large files: answer at once with a job; the import reports its rows as it goes.
      uint64_t lines = static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
      auto actor = c.user().actor();
      DOUDI_ASSIGN_OR_RETURN(
          json job, s.jobs.Start(c.user(), "feed_import", "feed:" + county + ":" + source,
                                 [&db = s.db, actor, county, source, month, filename, bytes = std::move(bytes),
                                  lines](const Jobs::Progress& progress) -> Result<json> {
                                   DOUDI_ASSIGN_OR_RETURN(
                                       auto rep, monitoring::ImportFeed(db, actor, county, source, month, filename, bytes,
                                                                        [&](uint64_t done) { progress("import", done, lines); }));
                                   return monitoring::ToJson(rep);
                                 }));
      return Response::Json(202, {{"job", job}});
    }
    DOUDI_ASSIGN_OR_RETURN(auto rep, monitoring::ImportFeed(s.db, c.user().actor(), county, source, month, filename, bytes));
    return Response::Json(rep.already_imported ? 200 : 201, monitoring::ToJson(rep));
  });
  // Only these roles may send a feed, and only they get its 64 MiB limit: checked on the
  // request's header, before the body is read (the handler checks the roles again).
  router.SetBodyRule(64 << 20, {auth::Role::kCountyAdmin, auth::Role::kCountyReviewer, auth::Role::kDepartmentLiaison},
                     "只有县级民政人员和部门联络员可以上传部门数据");

  router.Add("POST", "/api/v1/monitor/runs", [&s](Context& c) -> Result<Response> {
    auto role = c.user().role;
    if (role != auth::Role::kCountyAdmin && role != auth::Role::kCountyReviewer)
      return Status::PermissionDenied("只有县级民政人员可以运行月度比对");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string month = r.String("month", true);
    bool async = r.Bool("async", false);
    if (!r.ok()) return r.status();
    const std::string county = c.user().region_code.substr(0, 6);
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

  router.Add("GET", "/api/v1/screening", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    std::string month = c.Query("month");
    if (month.empty()) month = TodayShanghai().substr(0, 7);
    DOUDI_ASSIGN_OR_RETURN(json out, s.screening.List(c.user(), month, c.Query("village"), c.Query("status"),
                                                      paging.first, paging.second));
    return Response::Json(200, out);
  });

  router.Add("POST", "/api/v1/screening/visits", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, s.screening.RecordVisit(c.user(), body));
    return Response::Json(out["version"].get<int64_t>() == 1 ? 201 : 200, out);
  });

  router.Add("GET", "/api/v1/screening/export", [&s](Context& c) -> Result<Response> {
    std::string month = c.Query("month");
    if (month.empty()) month = TodayShanghai().substr(0, 7);
    std::string kind = c.Query("kind");
    DOUDI_ASSIGN_OR_RETURN(auto wb, s.screening.Export(c.user(), month, kind));
    return Response::Xlsx(std::move(wb.bytes), wb.filename, "screening-" + kind + "-" + month + ".xlsx");
  });

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

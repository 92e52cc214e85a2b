// /api/v1 resources of the department feeds: their layouts, the county's imports and the upload
// (an import, or for large files a background job).
#include <sodium.h>

#include <algorithm>
#include <optional>

#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"
#include "monitoring/feeds.h"

namespace doudi::http {
namespace {

using nlohmann::json;

// The uploaded file's bytes: csv_text (the browser's CSV of an .xlsx, UTF-8) or
// content_base64 (the raw file, e.g. GB18030 CSV as Excel exports it).
Result<std::string> UploadedBytes(const json& body, const std::optional<std::string>& b64) {
  // csv_text is a whole file: line breaks and tabs belong to it (not read through FieldReader,
  // which refuses control characters in form fields); NUL never does.
  if (body.contains("csv_text") && !body["csv_text"].is_null()) {
    if (!body["csv_text"].is_string()) return Status::InvalidArgument("csv_text", "应为字符串");
    std::string csv = body["csv_text"].get<std::string>();
    if (csv.find('\0') != std::string::npos) return Status::InvalidArgument("csv_text", "文件内容不能包含 NUL 字符");
    return csv;
  }
  if (!b64) return Status::InvalidArgument("csv_text", "请上传文件内容");
  std::string bytes(b64->size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), b64->c_str(), b64->size(),
                        "\n\r ", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return Status::InvalidArgument("content_base64", "文件内容不是有效的 Base64 编码");
  bytes.resize(len);
  return bytes;
}

}  // namespace

void RegisterFeeds(Router& router, Services& s) {
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
    DOUDI_ASSIGN_OR_RETURN(std::string bytes, UploadedBytes(body, b64));
    const std::string county = CountyOf(c.user());
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
}

}  // namespace doudi::http

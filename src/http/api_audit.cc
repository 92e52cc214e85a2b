// /api/v1 resources of the audit trail: the log (pages and the Excel export), the read log and
// the chain's verification. Every read of them is itself logged in the read log.
#include "audit/audit_log.h"
#include "common/date.h"
#include "http/api.h"
#include "http/api_util.h"
#include "reports/xlsx.h"

namespace doudi::http {
namespace {

using nlohmann::json;

// The audit log as a workbook (GET /audit/export): the list's filters, newest first.
Result<Response> AuditWorkbook(const std::vector<audit::ListedEntry>& entries, int64_t total, int64_t limit,
                               const auth::User& user) {
  const std::string now = NowIsoShanghai(), day = now.substr(0, 10);
  // Excel holds at most 32,767 characters in a cell.
  auto cell = [](const std::string& text) -> reports::Cell {
    constexpr size_t kMax = 32000;
    if (text.size() <= kMax) return text;
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
    return text.substr(0, cut) + "…（已截断）";
  };
  reports::Sheet sheet{"审计日志",
                       "审计日志（" + user.region_name + "）",
                       {"编号", "时间", "操作人", "操作", "对象", "对象编号", "区划代码", "修改前", "修改后", "哈希"},
                       {8, 26, 14, 22, 14, 12, 14, 50, 50, 66},
                       {},
                       {"共 " + std::to_string(entries.size()) + " 条" +
                            (total > static_cast<int64_t>(entries.size())
                                 ? "（符合条件的共 " + std::to_string(total) + " 条，本表为最新的 " +
                                       std::to_string(limit) + " 条）"
                                 : std::string("")) +
                            "。",
                        "导出人：" + user.display_name + "；导出时间：" + day + " " + now.substr(11, 5) + "。",
                        "本表含个人信息，仅供审计使用，不得公开或外传；本次导出已记入读取日志。"}};
  for (const auto& e : entries)
    sheet.rows.push_back({e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.region_code, cell(e.before_json),
                          cell(e.after_json), e.hash});
  DOUDI_ASSIGN_OR_RETURN(std::string bytes, reports::WriteWorkbook({sheet}));
  const std::string compact = CompactDate(day);
  return Response::Xlsx(std::move(bytes), "审计日志" + compact + ".xlsx", "audit-" + compact + ".xlsx");
}

// What a read of audit entries names in the read log: the lowest and highest id read and the
// filters, which together with the reader's scope give exactly the entries read.
std::string AuditReadKey(const std::vector<audit::ListedEntry>& entries, const audit::ListFilter& f) {
  std::string key = std::to_string(entries.back().id) + "-" + std::to_string(entries.front().id);
  if (!f.entity.empty()) key += " entity=" + f.entity;
  if (!f.actor.empty()) key += " actor=" + f.actor;
  return key;
}

// The entries of a filter in the reader's scope, newest first; *total counts all that match.
// The connection goes back to the pool before the read log's commit.
Result<std::vector<audit::ListedEntry>> FetchEntries(storage::Database& db, const audit::ListFilter& f,
                                                     int64_t* total) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  return audit::ListEntries(*conn, f, total);
}

json EntryJson(const audit::ListedEntry& e) {
  return {{"id", e.id},
          {"at", e.at},
          {"actor", e.actor},
          {"action", e.action},
          {"entity", e.entity},
          {"entity_id", e.entity_id},
          {"region_code", e.region_code},
          {"before", json::parse(e.before_json, nullptr, false)},
          {"after", json::parse(e.after_json, nullptr, false)},
          {"hash", e.hash}};
}

}  // namespace

// The audit log's pages and export.
void RegisterAuditLog(Router& router, Services& s) {
  // Entries are scoped: county-level roles see their county; the region column filters. An
  // entry's before/after hold personal data (full citizen ids): each page listed and each
  // export is a read, logged in the read log like any other (the auditor's reads included):
  // entity audit_log (a page) or audit_export, entity_id "lowest-highest id" and the filters.
  router.Add("GET", "/api/v1/audit", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadAudit(c.user().role)) return Status::PermissionDenied("您的角色无权查看审计日志");
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    audit::ListFilter f{c.user().region_code, c.Query("entity"), c.Query("actor"), paging.first, paging.second};
    int64_t total = 0;
    DOUDI_ASSIGN_OR_RETURN(std::vector<audit::ListedEntry> entries, FetchEntries(s.db, f, &total));
    if (!entries.empty())
      DOUDI_RETURN_IF_ERROR(s.registry.LogRead(c.user(), "audit_log", AuditReadKey(entries, f), c.user().region_code));
    json arr = json::array();
    for (const auto& e : entries) arr.push_back(EntryJson(e));
    return Response::Json(200, Page(std::move(arr), total, paging));
  });

  // GET /audit/export?entity=&actor=&limit=: the newest `limit` (default and at most 10,000)
  // entries of the list's filters as an Excel workbook.
  router.Add("GET", "/api/v1/audit/export", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadAudit(c.user().role)) return Status::PermissionDenied("您的角色无权查看审计日志");
    constexpr int64_t kMaxRows = 10000;
    int64_t limit = kMaxRows;
    if (std::string v = c.Query("limit"); !v.empty()) {
      if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
        return Status::InvalidArgument("limit", "应为正整数");
      limit = std::stoll(v);
      if (limit < 1 || limit > kMaxRows) return Status::InvalidArgument("limit", "应在 1 到 10000 之间");
    }
    audit::ListFilter f{c.user().region_code, c.Query("entity"), c.Query("actor"), 1, limit};
    int64_t total = 0;
    DOUDI_ASSIGN_OR_RETURN(std::vector<audit::ListedEntry> entries, FetchEntries(s.db, f, &total));
    if (!entries.empty())
      DOUDI_RETURN_IF_ERROR(
          s.registry.LogRead(c.user(), "audit_export", AuditReadKey(entries, f), c.user().region_code));
    return AuditWorkbook(entries, total, limit, c.user());
  });
}

void RegisterReadLog(Router& router, Services& s) {
  // The read log names who read what (ids of records, no personal data); reading it is itself
  // logged, one row per page (entity read_log, the ids shown), so no one reads it unseen.
  router.Add("GET", "/api/v1/audit/reads", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadAudit(c.user().role)) return Status::PermissionDenied("您的角色无权查看审计日志");
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    audit::ListFilter f{c.user().region_code, "", "", paging.first, paging.second};
    int64_t total = 0;
    std::vector<audit::ListedRead> reads;
    {
      DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, s.db.Acquire());
      DOUDI_ASSIGN_OR_RETURN(reads, audit::ListReads(*conn, f, &total));
    }
    json arr = json::array();
    for (const auto& r : reads)
      arr.push_back({{"id", r.id}, {"at", r.at}, {"actor", r.actor}, {"entity", r.entity},
                     {"entity_id", r.entity_id}, {"region_code", r.region_code}});
    if (!reads.empty())
      DOUDI_RETURN_IF_ERROR(s.registry.LogRead(
          c.user(), "read_log", std::to_string(reads.back().id) + "-" + std::to_string(reads.front().id),
          c.user().region_code));
    return Response::Json(200, Page(std::move(arr), total, paging));
  });
}

void RegisterAuditVerify(Router& router, Services& s) {
  router.Add("GET", "/api/v1/audit/verify", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadAudit(c.user().role)) return Status::PermissionDenied("您的角色无权查看审计日志");
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, s.db.Acquire());
    DOUDI_ASSIGN_OR_RETURN(auto rep, audit::Verify(*conn));
    json out = {{"ok", rep.ok}, {"entries", rep.entries}, {"reads", rep.reads}, {"anchors", rep.anchors}};
    if (!rep.ok) {
      out["first_broken_id"] = rep.first_broken_id;
      out["first_broken_read_id"] = rep.first_broken_read_id;
      out["problem"] = rep.problem;
    }
    return Response::Json(200, out);
  });
}

void RegisterAudit(Router& router, Services& s) {
  RegisterAuditLog(router, s);
  RegisterReadLog(router, s);
  RegisterAuditVerify(router, s);
}

}  // namespace doudi::http

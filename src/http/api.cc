#include "http/api.h"

#include <algorithm>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "http/idempotency.h"
#include "reports/xlsx.h"

namespace doudi::http {
namespace {

using nlohmann::json;

json UserJson(const auth::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"role", auth::RoleName(u.role)},
          {"region_code", u.region_code},
          {"region_name", u.region_name},
          {"department", u.department},
          {"disabled", u.disabled},
          {"must_change_credentials", u.must_change_password},
          {"totp_enabled", u.totp_enabled},
          {"version", u.version}};
}

json Page(json items, int64_t total, std::pair<int64_t, int64_t> paging) {
  return {{"items", std::move(items)}, {"total", total}, {"page", paging.first}, {"page_size", paging.second}};
}

Response RawJson(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string SessionCookie(const std::string& token, int max_age) {
  return "doudi_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

// The household roster (户籍家庭花名册) as a workbook: ids masked, a line per household.
Result<Response> RosterWorkbook(const registry::Roster& roster, const auth::User& user) {
  const std::string now = NowIsoShanghai(), day = now.substr(0, 10);
  reports::Sheet sheet{"花名册",
                       roster.region_name + "户籍家庭花名册" + (roster.search.empty() ? "" : "（" + roster.search + "）"),
                       {"序号", "镇（街道）", "村（社区）", "户主姓名", "户主身份证号", "家庭人数", "家庭成员",
                        "城乡", "居住地址", "联系电话", "更新日期"},
                       {6, 14, 16, 10, 20, 8, 40, 6, 30, 14, 12},
                       {},
                       {"共 " + std::to_string(roster.lines.size()) + " 户。身份证号已脱敏。",
                        "导出人：" + user.display_name + "；导出时间：" + day + " " + now.substr(11, 5) + "。",
                        "本表含个人信息，仅供社会救助工作使用，不得公开或外传。"}};
  int64_t n = 0;
  for (const auto& l : roster.lines) {
    sheet.rows.push_back({++n, l.town_name, l.village_name, l.head_name,
                          l.head_citizen_id.empty() ? std::string() : MaskCitizenId(l.head_citizen_id), l.member_count,
                          l.members, std::string(l.area == "urban" ? "城镇" : "农村"), l.residence_address, l.phone,
                          l.updated_at.substr(0, 10)});
  }
  DOUDI_ASSIGN_OR_RETURN(std::string bytes, reports::WriteWorkbook({sheet}));
  std::string compact = day;
  compact.erase(std::remove(compact.begin(), compact.end(), '-'), compact.end());
  return Response::Xlsx(std::move(bytes), roster.region_name + "户籍家庭花名册" + compact + ".xlsx",
                        "households-" + compact + ".xlsx");
}

Result<int64_t> RequiredVersion(const json& body) {
  FieldReader r(body, "");
  int64_t v = r.Int("version", true);
  if (!r.ok()) return r.status();
  return v;
}

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

void RegisterRegistry(Router& router, Services& s) {
  router.Add("GET", "/api/v1/households", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    registry::HouseholdQuery q{c.Query("q"), c.Query("region"), paging.first, paging.second};
    if (q.q.size() > 60) return Status::InvalidArgument("q", "搜索内容过长");
    DOUDI_ASSIGN_OR_RETURN(std::string page, s.registry.ListHouseholdsJson(c.user(), q));
    return RawJson(200, std::move(page));
  });
  // Requests answered from the household cache wait for its poll without holding a thread.
  RouteWait fresh;
  if (s.registry.SharesPolls()) fresh = [&s](std::function<void(Within)> ready) { s.registry.AwaitFresh(ready); };
  router.SetWait(fresh);

  router.Add("POST", "/api/v1/households", Idempotent(s.db, [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(auto in, registry::HouseholdInputFromJson(body, true));
    DOUDI_ASSIGN_OR_RETURN(auto h, s.registry.CreateHousehold(c.user(), in));
    return Response::Json(201, registry::ToJson(h));
  }));

  // Before /households/{id}, which would take "export" for an id.
  router.Add("GET", "/api/v1/households/export", [&s](Context& c) -> Result<Response> {
    registry::HouseholdQuery q{c.Query("q"), c.Query("region")};
    if (q.q.size() > 60) return Status::InvalidArgument("q", "搜索内容过长");
    DOUDI_ASSIGN_OR_RETURN(auto roster, s.registry.RosterOf(c.user(), q));
    return RosterWorkbook(roster, c.user());
  });

  router.Add("GET", "/api/v1/households/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(std::string doc, s.registry.GetHouseholdJson(c.user(), id));
    return RawJson(200, std::move(doc));
  });
  router.SetWait(fresh);

  router.Add("PUT", "/api/v1/households/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(auto in, registry::HouseholdInputFromJson(body, false));
    DOUDI_ASSIGN_OR_RETURN(int64_t version, RequiredVersion(body));
    std::string doc;
    auto updated = s.registry.UpdateHousehold(c.user(), id, in, version, &doc);
    if (!updated.ok()) return updated.status();
    return RawJson(200, std::move(doc));
  });
  router.SetWait(fresh);  // it starts from the cached household when it can

  router.Add("POST", "/api/v1/households/{id}/members", Idempotent(s.db, [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(auto in, registry::PersonInputFromJson(body, ""));
    DOUDI_ASSIGN_OR_RETURN(auto p, s.registry.AddMember(c.user(), id, in));
    return Response::Json(201, registry::ToJson(p));
  }));

  router.Add("GET", "/api/v1/persons/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(auto p, s.registry.GetPerson(c.user(), id));
    return Response::Json(200, registry::ToJson(p));
  });

  router.Add("PUT", "/api/v1/persons/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(auto in, registry::PersonInputFromJson(body, ""));
    DOUDI_ASSIGN_OR_RETURN(int64_t version, RequiredVersion(body));
    DOUDI_ASSIGN_OR_RETURN(auto p, s.registry.UpdatePerson(c.user(), id, in, version));
    return Response::Json(200, registry::ToJson(p));
  });

  router.Add("DELETE", "/api/v1/persons/{id}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    std::string v = c.Query("version");
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
      return Status::InvalidArgument("version", "缺少版本号");
    DOUDI_RETURN_IF_ERROR(s.registry.RemovePerson(c.user(), id, std::stoll(v)));
    return Response::NoContent();
  });

  router.Add("GET", "/api/v1/regions", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto regions, s.registry.ListRegions(c.user(), c.Query("parent")));
    json arr = json::array();
    for (const auto& r : regions) arr.push_back(registry::ToJson(r));
    return Response::Json(200, {{"items", arr}});
  });

  router.Add("GET", "/api/v1/regions/{code}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(auto r, s.registry.GetRegion(c.user(), c.params["code"]));
    return Response::Json(200, registry::ToJson(r));
  });

  router.Add("PATCH", "/api/v1/regions/{code}", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    int64_t population = r.Int("population", true);
    int64_t version = r.Int("version", true);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(auto reg, s.registry.SetPopulation(c.user(), c.params["code"], population, version));
    return Response::Json(200, registry::ToJson(reg));
  });
}

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
  std::string compact = day;
  compact.erase(std::remove(compact.begin(), compact.end(), '-'), compact.end());
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

void RegisterAudit(Router& router, Services& s) {
  // Entries are scoped: county-level roles see their county; the region column filters. An
  // entry's before/after hold personal data (full citizen ids): each page listed and each
  // export is a read, logged in the read log like any other (the auditor's reads included):
  // entity audit_log (a page) or audit_export, entity_id "lowest-highest id" and the filters.
  router.Add("GET", "/api/v1/audit", [&s](Context& c) -> Result<Response> {
    if (!auth::CanReadAudit(c.user().role)) return Status::PermissionDenied("您的角色无权查看审计日志");
    DOUDI_ASSIGN_OR_RETURN(auto paging, c.Paging());
    audit::ListFilter f{c.user().region_code, c.Query("entity"), c.Query("actor"), paging.first, paging.second};
    int64_t total = 0;
    std::vector<audit::ListedEntry> entries;
    {
      DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, s.db.Acquire());
      DOUDI_ASSIGN_OR_RETURN(entries, audit::ListEntries(*conn, f, &total));
    }
    if (!entries.empty())
      DOUDI_RETURN_IF_ERROR(s.registry.LogRead(c.user(), "audit_log", AuditReadKey(entries, f), c.user().region_code));
    json arr = json::array();
    for (const auto& e : entries) {
      arr.push_back({{"id", e.id},
                     {"at", e.at},
                     {"actor", e.actor},
                     {"action", e.action},
                     {"entity", e.entity},
                     {"entity_id", e.entity_id},
                     {"region_code", e.region_code},
                     {"before", json::parse(e.before_json, nullptr, false)},
                     {"after", json::parse(e.after_json, nullptr, false)},
                     {"hash", e.hash}});
    }
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
    std::vector<audit::ListedEntry> entries;
    {
      DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, s.db.Acquire());
      DOUDI_ASSIGN_OR_RETURN(entries, audit::ListEntries(*conn, f, &total));
    }
    if (!entries.empty())
      DOUDI_RETURN_IF_ERROR(
          s.registry.LogRead(c.user(), "audit_export", AuditReadKey(entries, f), c.user().region_code));
    return AuditWorkbook(entries, total, limit, c.user());
  });

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

void RegisterPolicy(Router& router, Services& s) {
  auto county_of = [](const auth::User& u) { return u.region_code.substr(0, 6); };

  router.Add("POST", "/api/v1/eval", [&s, county_of](Context& c) -> Result<Response> {
    if (!auth::CanReadRegistry(c.user().role)) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Eval(county_of(c.user()), body, date));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/households/{id}/determinations", [&s](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.HouseholdDeterminations(c.user(), id, date));
    return Response::Json(200, out);
  });

  router.Add("GET", "/api/v1/policy", [&s, county_of](Context& c) -> Result<Response> {
    if (c.user().role == auth::Role::kDepartmentLiaison) return Status::PermissionDenied();
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(c.Query("date"), "date"));
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Describe(county_of(c.user()), date));
    return Response::Json(200, out);
  });

  router.Add("POST", "/api/v1/policy/entries", [&s](Context& c) -> Result<Response> {
    if (c.user().role != auth::Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以修改政策参数");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    std::string key = r.String("key", true);
    std::string from = r.String("from", false);
    std::string value = r.String("value", true);
    std::string basis = r.String("basis", false);
    std::string note = r.String("note", true);
    if (!r.ok()) return r.status();
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.AddEntry(c.user(), key, from, value, basis, note));
    return Response::Json(201, out);
  });

  router.Add("POST", "/api/v1/policy/simulate", [&s, county_of](Context& c) -> Result<Response> {
    auto role = c.user().role;
    if (role != auth::Role::kCountyAdmin && role != auth::Role::kCountyReviewer && role != auth::Role::kSupervisor)
      return Status::PermissionDenied("只有县级人员可以进行政策模拟");
    DOUDI_ASSIGN_OR_RETURN(json body, c.JsonBody());
    FieldReader r(body, "");
    DOUDI_ASSIGN_OR_RETURN(std::string date, policy::DateOrToday(r.String("date", false), "date"));
    const json* set = r.Object("set", true);
    if (!r.ok()) return r.status();
    std::vector<policy::SimulationChange> changes;
    for (auto it = set->begin(); it != set->end(); ++it) {
      if (!it.value().is_string() && !it.value().is_number())
        return Status::InvalidArgument("set." + it.key(), "取值应为字符串或数字");
      changes.push_back({it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump()});
    }
    if (changes.empty()) return Status::InvalidArgument("set", "请至少修改一个参数");
    DOUDI_ASSIGN_OR_RETURN(json out, s.policy.Simulate(county_of(c.user()), date, changes));
    return Response::Json(200, out);
  });
}

}  // namespace

void RegisterApi(Router& router, Services& services) {
  RegisterPolicy(router, services);
  RegisterApplications(router, services);
  RegisterEnrollments(router, services);
  RegisterReferrals(router, services);
  RegisterEmergency(router, services);
  RegisterCredit(router, services);
  RegisterCalendar(router, services);
  RegisterPublic(router, services);
  RegisterMonitoring(router, services);
  RegisterSession(router, services);
  RegisterRegistry(router, services);
  RegisterUsers(router, services);
  RegisterAudit(router, services);
}

}  // namespace doudi::http

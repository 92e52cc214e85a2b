// /api/v1 resources of the registry: households (list, roster export, read, edit, members),
// persons and regions. Reads of the cached household documents wait for the cache's poll.
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "http/api.h"
#include "http/api_util.h"
#include "http/idempotency.h"
#include "reports/xlsx.h"

namespace doudi::http {
namespace {

using nlohmann::json;

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
  const std::string compact = CompactDate(day);
  return Response::Xlsx(std::move(bytes), roster.region_name + "户籍家庭花名册" + compact + ".xlsx",
                        "households-" + compact + ".xlsx");
}

}  // namespace

void RegisterHouseholds(Router& router, Services& s) {
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
}

void RegisterPersons(Router& router, Services& s) {
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
}

void RegisterRegions(Router& router, Services& s) {
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

void RegisterRegistry(Router& router, Services& s) {
  RegisterHouseholds(router, s);
  RegisterPersons(router, s);
  RegisterRegions(router, s);
}

}  // namespace doudi::http

// /api/v1 resources of the applications module (docs/api.md § Applications, § Notices):
// applications and their actions, timelines, the household file, notices, attachments, and
// cross-region verification requests. Thin handlers over src/applications/.
#include <memory>

#include "applications/attachments.h"
#include "applications/verification_requests.h"
#include "http/api.h"
#include "http/idempotency.h"
#include "http/routes.h"
#include "notices/notices.h"

namespace doudi::http {

using nlohmann::json;

namespace {

void RegisterNotices(Router& router, applications::ApplicationService& svc) {
  router.Add("GET", "/api/v1/notices/{id}", IdRoute([&svc](Context& c, int64_t id) { return svc.GetNotice(c.user(), id); }));
  router.Add("GET", "/api/v1/notices/{id}/print", [&svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    DOUDI_ASSIGN_OR_RETURN(json out, svc.GetNotice(c.user(), id));
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = notices::PrintableNotice(out["html"].get<std::string>());
    return r;
  });
}

void RegisterAttachments(Router& router, Services& s) {
  auto svc = std::make_shared<applications::AttachmentService>(s.db);
  router.Add("POST", "/api/v1/applications/{id}/attachments",
             IdBodyRoute(201, [svc](Context& c, int64_t id, const json& b) { return svc->Add(c.user(), id, b); }));
  router.Add("GET", "/api/v1/attachments/{id}", [svc](Context& c) -> Result<Response> {
    DOUDI_ASSIGN_OR_RETURN(int64_t id, c.IdParam("id"));
    std::string type;
    DOUDI_ASSIGN_OR_RETURN(std::string bytes, svc->Get(c.user(), id, &type));
    Response r;
    r.content_type = type;
    r.body = std::move(bytes);
    return r;
  });
}

void RegisterVerificationRequests(Router& router, Services& s) {
  auto svc = std::make_shared<applications::VerificationRequestService>(s.db, s.registry);
  router.Add("GET", "/api/v1/verification-requests", ListRoute([svc](Context& c, Page page) {
               return svc->List(c.user(), page, c.Query("direction"));
             }));
  router.Add("POST", "/api/v1/verification-requests/{id}/answer",
             IdBodyRoute(200, [svc](Context& c, int64_t id, const json& b) { return svc->Answer(c.user(), id, b); }));
}

}  // namespace

void RegisterApplications(Router& router, Services& s) {
  auto& svc = s.applications;
  router.Add("POST", "/api/v1/applications",
             Idempotent(s.db, BodyRoute(201, [&svc](Context& c, const json& b) { return svc.Create(c.user(), b); })));
  router.Add("GET", "/api/v1/applications", ListRoute([&svc](Context& c, Page page) {
               return svc.List(c.user(), c.Query("state"), c.Query("q"), c.Query("village"), c.Query("sort"), page);
             }));
  router.Add("GET", "/api/v1/applications/{id}", IdRoute([&svc](Context& c, int64_t id) { return svc.Get(c.user(), id); }));
  router.Add("GET", "/api/v1/applications/{id}/timeline",
             IdRoute([&svc](Context& c, int64_t id) { return svc.Timeline(c.user(), id); }));
  router.Add("POST", "/api/v1/applications/{id}/actions",
             IdBodyRoute(200, [&svc](Context& c, int64_t id, const json& b) { return svc.Act(c.user(), id, b); }));
  router.Add("GET", "/api/v1/households/{id}/file",
             IdRoute([&svc](Context& c, int64_t id) { return svc.HouseholdFile(c.user(), id); }));
  RegisterNotices(router, svc);
  RegisterAttachments(router, s);
  RegisterVerificationRequests(router, s);
}

}  // namespace doudi::http

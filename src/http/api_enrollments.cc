// /api/v1 resources of the enrollments module and of referrals (docs/api.md § Enrollments and
// referrals): thin handlers over src/enrollments/ and src/applications/referrals.h.
#include <memory>

#include "applications/referrals.h"
#include "enrollments/enrollments.h"
#include "http/api.h"
#include "http/routes.h"

namespace doudi::http {

using nlohmann::json;

void RegisterEnrollments(Router& router, Services& s) {
  auto svc = std::make_shared<enrollments::EnrollmentService>(s.db, s.registry, s.policy);
  router.Add("GET", "/api/v1/enrollments",
             ListRoute([svc](Context& c, Page page) { return svc->List(c.user(), c.Query("status"), page); }));
  router.Add("POST", "/api/v1/enrollments/{id}/actions",
             IdBodyRoute(200, [svc](Context& c, int64_t id, const json& b) { return svc->Act(c.user(), id, b); }));
}

void RegisterReferrals(Router& router, Services& s) {
  auto svc = std::make_shared<applications::ReferralService>(s.db, s.registry);
  router.Add("GET", "/api/v1/referrals",
             ListRoute([svc](Context& c, Page page) { return svc->List(c.user(), c.Query("status"), page); }));
  router.Add("POST", "/api/v1/referrals/{id}/actions",
             IdBodyRoute(200, [svc](Context& c, int64_t id, const json& b) { return svc->Act(c.user(), id, b); }));
}

}  // namespace doudi::http

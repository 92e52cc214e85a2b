// /api/v1 resources of the credit module (docs/api.md § Credit and relatives): the trust and
// dishonesty lists and the relatives of staff. Thin handlers over src/credit/.
#include <memory>

#include "credit/credit.h"
#include "http/api.h"
#include "http/idempotency.h"
#include "http/routes.h"

namespace doudi::http {

using nlohmann::json;

void RegisterCredit(Router& router, Services& s) {
  auto svc = std::make_shared<credit::CreditService>(s.db, s.registry);
  router.Add("GET", "/api/v1/credit", ListRoute([svc](Context& c, Page page) { return svc->ListCredit(c.user(), page); }));
  router.Add("POST", "/api/v1/credit",
             Idempotent(s.db, BodyRoute(201, [svc](Context& c, const json& b) { return svc->AddCredit(c.user(), b); })));
  router.Add("POST", "/api/v1/credit/{id}/repay", IdRoute([svc](Context& c, int64_t id) { return svc->Repay(c.user(), id); }));
  router.Add("GET", "/api/v1/staff-relatives",
             ListRoute([svc](Context& c, Page page) { return svc->ListRelatives(c.user(), page); }));
  router.Add("POST", "/api/v1/staff-relatives",
             Idempotent(s.db, BodyRoute(201, [svc](Context& c, const json& b) { return svc->AddRelative(c.user(), b); })));
}

}  // namespace doudi::http

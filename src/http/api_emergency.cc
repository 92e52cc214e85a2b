// /api/v1 resources of the emergency-help module (docs/api.md § Emergency help): act-first aid
// and the towns' reserve funds. Thin handlers over src/emergency/.
#include <memory>

#include "emergency/emergency.h"
#include "http/api.h"
#include "http/idempotency.h"
#include "http/routes.h"

namespace doudi::http {

using nlohmann::json;

void RegisterEmergency(Router& router, Services& s) {
  auto svc = std::make_shared<emergency::EmergencyService>(s.db, s.registry, s.policy);
  router.Add("POST", "/api/v1/emergency-aid",
             Idempotent(s.db, BodyRoute(201, [svc](Context& c, const json& b) { return svc->Create(c.user(), b); })));
  router.Add("GET", "/api/v1/emergency-aid", ListRoute([svc](Context& c, Page page) { return svc->List(c.user(), page); }));
  router.Add("POST", "/api/v1/emergency-aid/{id}/actions",
             IdBodyRoute(200, [svc](Context& c, int64_t id, const json& b) { return svc->Act(c.user(), id, b); }));
  router.Add("GET", "/api/v1/reserve-funds", PlainRoute([svc](Context& c) { return svc->ReserveFunds(c.user()); }));
  router.Add("POST", "/api/v1/reserve-funds/{town}/deposits", Idempotent(s.db, BodyRoute(201, [svc](Context& c, const json& b) {
               return svc->Deposit(c.user(), c.params["town"], b);
             })));
}

}  // namespace doudi::http

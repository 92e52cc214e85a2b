// The /api/v1 routes in the order the router matches them (the first match wins: a literal
// path such as /households/export is added before /households/{id}).
#include "http/api.h"

namespace doudi::http {

void RegisterMonitoring(Router& router, Services& services) {
  RegisterFeeds(router, services);
  RegisterMonitorRuns(router, services);
  RegisterScreening(router, services);
  RegisterAlerts(router, services);
}

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

// The /api/v1 resources: thin handlers that parse JSON, call a service and render JSON.
#pragma once

#include "auth/auth.h"
#include "applications/applications.h"
#include "http/jobs.h"
#include "http/rate_limit.h"
#include "http/router.h"
#include "monitoring/monitor.h"
#include "monitoring/screening.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::http {

struct Services {
  storage::Database& db;
  auth::AuthService& auth;
  registry::RegistryService& registry;
  policy::PolicyService& policy;
  applications::ApplicationService& applications;
  monitoring::MonitorService& monitor;
  monitoring::ScreeningService& screening;
  Jobs& jobs;
  PublicLimitOptions public_limits{};  // the public routes' rate limits (serve flags)
};

// Every /api/v1 route, in matching order (api.cc).
void RegisterApi(Router& router, Services& services);

// One function per resource group, a file each (shared helpers: api_util.h, routes.h).
void RegisterSession(Router& router, Services& services);   // api_session.cc: health, login, session
void RegisterRegistry(Router& router, Services& services);  // api_registry.cc: households, persons, regions
void RegisterUsers(Router& router, Services& services);     // api_users.cc
void RegisterAudit(Router& router, Services& services);     // api_audit.cc: audit log, read log, verify
void RegisterPolicy(Router& router, Services& services);    // api_policy.cc: eval, parameters, simulation
// The case modules' resources, a file each: applications, notices, attachments and
// verification requests (api_applications.cc), enrollments and referrals (api_enrollments.cc),
// emergency help (api_emergency.cc), credit (api_credit.cc), the calendar (api_calendar.cc),
// the public pages (api_public.cc).
void RegisterApplications(Router& router, Services& services);
void RegisterEnrollments(Router& router, Services& services);
void RegisterReferrals(Router& router, Services& services);
void RegisterEmergency(Router& router, Services& services);
void RegisterCredit(Router& router, Services& services);
void RegisterCalendar(Router& router, Services& services);
void RegisterPublic(Router& router, Services& services);
// Dynamic monitoring (api.cc), in this order: feeds (api_feeds.cc), monthly runs and jobs
// (api_runs.cc), monthly screening (api_screening.cc), alerts and rectification (api_alerts.cc).
void RegisterMonitoring(Router& router, Services& services);
void RegisterFeeds(Router& router, Services& services);
void RegisterMonitorRuns(Router& router, Services& services);
void RegisterScreening(Router& router, Services& services);
void RegisterAlerts(Router& router, Services& services);

}  // namespace doudi::http

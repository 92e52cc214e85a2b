// The /api/v1 resources: thin handlers that parse JSON, call a service and render JSON.
#pragma once

#include "auth/auth.h"
#include "cases/workflow.h"
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
  cases::CaseService& cases;
  monitoring::MonitorService& monitor;
  monitoring::ScreeningService& screening;
  Jobs& jobs;
  PublicLimitOptions public_limits{};  // the public routes' rate limits (serve flags)
};

// Every /api/v1 route, in matching order (api.cc).
void RegisterApi(Router& router, Services& services);

// One function per resource group, a file each (shared helpers: api_util.h).
void RegisterSession(Router& router, Services& services);   // api_session.cc: health, login, session
void RegisterRegistry(Router& router, Services& services);  // api_registry.cc: households, persons, regions
void RegisterUsers(Router& router, Services& services);     // api_users.cc
void RegisterAudit(Router& router, Services& services);     // api_audit.cc: audit log, read log, verify
void RegisterPolicy(Router& router, Services& services);    // api_policy.cc: eval, parameters, simulation
// The workflow resources (api_cases.cc).
void RegisterCases(Router& router, Services& services);
// Dynamic monitoring (api.cc), in this order: feeds (api_feeds.cc), monthly runs and jobs
// (api_runs.cc), monthly screening (api_screening.cc), alerts and rectification (api_alerts.cc).
void RegisterMonitoring(Router& router, Services& services);
void RegisterFeeds(Router& router, Services& services);
void RegisterMonitorRuns(Router& router, Services& services);
void RegisterScreening(Router& router, Services& services);
void RegisterAlerts(Router& router, Services& services);

}  // namespace doudi::http

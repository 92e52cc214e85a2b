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

void RegisterApi(Router& router, Services& services);
// The workflow resources (api_cases.cc).
void RegisterCases(Router& router, Services& services);
// Feeds, monthly runs and alerts (api_monitoring.cc).
void RegisterMonitoring(Router& router, Services& services);

}  // namespace doudi::http

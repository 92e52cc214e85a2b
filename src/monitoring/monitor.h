// Dynamic monitoring (docs/monitoring.md): the warning indicators, the monthly run that joins the
// month's feeds against the whole registry with the batch engine, and the alerts that close the
// loop (new → verifying → resolved; confirmed needs start an application, confirmed wrong
// payments suspend the benefit pending termination). Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "applications/applications.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::monitoring {

struct Indicator {
  const char* id;
  const char* category;  // "missing" (应享未享) | "duplicate" (重复享受) | "improper" (违规享受)
  const char* severity;  // "high" | "medium" | "low"
  int deadline_working_days;
  const char* description;  // Chinese
  const char* cite;
};
const std::vector<Indicator>& Indicators();
// The indicator with this id, or null.
const Indicator* FindIndicator(const std::string& id);

struct RunReport {
  int64_t run_id = 0;
  int64_t persons = 0, feed_rows = 0, matched = 0, alerts_raised = 0, alerts_existing = 0;
  nlohmann::json by_indicator = nlohmann::json::object();
};

class MonitorService {
 public:
  MonitorService(storage::Database& db, registry::RegistryService& registry, policy::PolicyService& policy,
                 applications::ApplicationService& applications)
      : db_(db), registry_(registry), policy_(policy), applications_(applications) {}

  // Runs the month (YYYY-MM) for a county. Re-running raises no duplicate: an open alert for
  // the same person and indicator is kept. progress(step, done, total) reports long steps.
  // origin: "manual" (CLI, web) or "schedule" (the server's monthly run). One run at a time
  // per process: a second waits for the first.
  Result<RunReport> Run(const audit::Actor& actor, const std::string& county, const std::string& month,
                        const std::function<void(const std::string&, uint64_t, uint64_t)>& progress = {},
                        const std::string& origin = "manual");
  // The county's runs, newest first.
  Result<nlohmann::json> ListRuns(const auth::User& actor, int64_t page, int64_t page_size);

  Result<nlohmann::json> ListAlerts(const auth::User& actor, const std::string& status, const std::string& indicator,
                                    int64_t page, int64_t page_size);
  Result<nlohmann::json> ActAlert(const auth::User& actor, int64_t id, const nlohmann::json& body);
  // Rectification report by town (怀远): found / resolved / overdue per category.
  Result<nlohmann::json> Rectification(const auth::User& actor, const std::string& month);
  Result<nlohmann::json> ListFeeds(const auth::User& actor, int64_t page, int64_t page_size);

 private:
  storage::Database& db_;
  registry::RegistryService& registry_;
  policy::PolicyService& policy_;
  applications::ApplicationService& applications_;
  std::mutex run_mu_;
};

nlohmann::json ToJson(const RunReport& r);

}  // namespace doudi::monitoring

// PolicyService: the policy engine as the server and CLI use it — county packs (files plus
// the database overlay of admin edits), evaluation of input or registered households,
// admin edits with constraint checks and audit, and simulation of a parameter change over
// the whole registry.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "policy/engine.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::policy {

// Builds the engine's facts from a registered household (no current programme yet).
Facts FactsFromHousehold(const registry::Household& h);

struct SimulationChange {
  std::string key, value;  // value as text, parsed for the parameter's unit
};

// Thread-safe.
class PolicyService {
 public:
  PolicyService(storage::Database& db, registry::RegistryService& registry, std::string policies_dir)
      : db_(db), registry_(registry), dir_(std::move(policies_dir)) {}

  // The county's pack with its overlay (cached; reloaded after an edit).
  Result<std::shared_ptr<const Pack>> PackFor(const std::string& county);

  Result<nlohmann::json> Eval(const std::string& county, const nlohmann::json& input, const std::string& date);
  Result<nlohmann::json> HouseholdDeterminations(const auth::User& actor, int64_t id, const std::string& date);
  Result<nlohmann::json> Describe(const std::string& county, const std::string& date);
  Result<nlohmann::json> AddEntry(const auth::User& actor, const std::string& key, const std::string& from,
                                  const std::string& value, const std::string& basis, const std::string& note);
  // Re-evaluates every household of the county under the changes; aggregates by town.
  Result<nlohmann::json> Simulate(const std::string& county, const std::string& date,
                                  const std::vector<SimulationChange>& changes);

 private:
  Result<std::shared_ptr<Pack>> LoadWithOverlay(const std::string& county);
  storage::Database& db_;
  registry::RegistryService& registry_;
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Pack>> cache_;
};

// "YYYY-MM-DD" or empty (→ today); InvalidArgument naming `field` otherwise.
Result<std::string> DateOrToday(const std::string& text, const std::string& field);

}  // namespace doudi::policy

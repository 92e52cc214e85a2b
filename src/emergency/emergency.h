// The emergency-help module: act-first temporary help (急难型临时救助, 先行救助) and the towns'
// reserve funds (临时救助储备金) it is paid from.
//
// Owns: the tables `emergency_aid`, `reserve_funds` and `reserve_movements`. A town pays up to
// the pack's `temporary.town_ceiling_fen` at once from its reserve fund; a larger amount waits
// for the county (approve_county / reject) or a case conference (一事一议); the paperwork is
// completed afterwards. Takes: the acting user and JSON bodies of docs/api.md § Emergency help;
// returns their JSON documents (citizen ids masked). Errors: PermissionDenied (role), NotFound
// (outside the user's scope, like a missing record), InvalidArgument (field named),
// FailedPrecondition (reserve fund too low), VersionConflict, Conflict invalid_transition.
// Every write is one transaction with its audit entry. Depends on: policy (the pack), registry
// (household scope, read log), audit, storage. Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "common/paging.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::emergency {

class EmergencyService {
 public:
  EmergencyService(storage::Database& db, registry::RegistryService& registry, policy::PolicyService& policy)
      : db_(db), registry_(registry), policy_(policy) {}

  Result<nlohmann::json> Create(const auth::User& actor, const nlohmann::json& body);
  Result<nlohmann::json> List(const auth::User& actor, Page page);
  // approve_county, reject, case_conference, complete_paperwork.
  Result<nlohmann::json> Act(const auth::User& actor, int64_t id, const nlohmann::json& body);
  // The towns of the user's county in scope: balance and the amount the pack requires.
  Result<nlohmann::json> ReserveFunds(const auth::User& actor);
  // A county admin's deposit into a town's reserve fund.
  Result<nlohmann::json> Deposit(const auth::User& actor, const std::string& town, const nlohmann::json& body);

  // Seeding: deposits the reserve fund a county's pack requires for each town.
  Status SeedReserveFunds(storage::Connection& conn, const std::string& county);

 private:
  storage::Database& db_;
  registry::RegistryService& registry_;
  policy::PolicyService& policy_;
};

}  // namespace doudi::emergency

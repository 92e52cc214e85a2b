// Referrals (转办): what an approval hands to a department (medical aid to 医保局, education aid,
// housing, employment, …), each due within the pack's working days; the department's liaison
// accepts and closes them.
//
// Owns: the `referrals` table (rows are inserted by the approval, decision.cc). Takes: the acting
// user; a liaison sees only the referrals of the department on the account. Errors: NotFound
// (outside the scope), PermissionDenied (not that department's liaison), InvalidArgument,
// Conflict invalid_transition. Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "common/paging.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::applications {

class ReferralService {
 public:
  ReferralService(storage::Database& db, registry::RegistryService& registry) : db_(db), registry_(registry) {}

  // In the user's scope (a liaison: the department's), by due date; `status` filters.
  Result<nlohmann::json> List(const auth::User& actor, const std::string& status, Page page);
  // accept (open → accepted) or close (→ closed, with the result in `note`).
  Result<nlohmann::json> Act(const auth::User& actor, int64_t id, const nlohmann::json& body);

 private:
  storage::Database& db_;
  registry::RegistryService& registry_;
};

}  // namespace doudi::applications

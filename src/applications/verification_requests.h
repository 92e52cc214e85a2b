// Cross-region verification requests (协查): an application made on a residence permit asks the
// applicant's hukou county to verify household, members and economic situation (57号 第五条).
//
// Owns: the `verification_requests` table (rows are inserted when such an application is
// registered, service.cc). Takes: the acting user; town staff see the requests of their own
// applications, county staff also those their county received, and only county staff answer.
// Errors: PermissionDenied, InvalidArgument, NotFound (no open request to answer). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "common/paging.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::applications {

class VerificationRequestService {
 public:
  VerificationRequestService(storage::Database& db, registry::RegistryService& registry)
      : db_(db), registry_(registry) {}

  // direction: "incoming", "outgoing" or "" for both.
  Result<nlohmann::json> List(const auth::User& actor, Page page, const std::string& direction = {});
  Result<nlohmann::json> Answer(const auth::User& actor, int64_t id, const nlohmann::json& body);

 private:
  storage::Database& db_;
  registry::RegistryService& registry_;
};

}  // namespace doudi::applications

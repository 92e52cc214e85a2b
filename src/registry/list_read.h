// The read log of list pages outside the registry (applications, enrollments, referrals,
// credit lists, emergency help, …): a page that shows full citizen ids or names is a read of
// personal data.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/paging.h"
#include "registry/registry.h"

namespace doudi::registry {

// One read-log row per page served (entity e.g. "credit_list", id "page N"), none for an empty
// page. Call it with no connection held (it may wait for the log's commit).
inline Status LogListRead(RegistryService& registry, const auth::User& actor, const char* entity,
                          const nlohmann::json& items, Page p) {
  if (items.empty()) return Status::Ok();
  return registry.LogRead(actor, entity, "page " + std::to_string(p.page), actor.region_code);
}

}  // namespace doudi::registry

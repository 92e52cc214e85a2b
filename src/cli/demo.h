// Demo county data for `doudi seed-demo`: staff accounts at every level and a few households.
#pragma once

#include <string>
#include <vector>

#include "auth/auth.h"
#include "emergency/emergency.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::cli {

struct DemoUser {
  std::string username, role, region_code, display_name, department;
  std::string totp_secret;  // base32, for the county admin and auditor (two-factor login)
};

struct SeedReport {
  bool existed = false;        // seeded before: nothing was written, the passwords left as they are
  bool password_works = true;  // `password` is the first demo user's password (now)
};

// Creates the demo users and households for `county` (idempotent: an existing demo
// user means the county was seeded; nothing is written again). One transaction.
Result<std::vector<DemoUser>> SeedDemo(storage::Database& db, auth::AuthService& auth,
                                       registry::RegistryService& registry, emergency::EmergencyService& emergency,
                                       const std::string& county, const std::string& password,
                                       SeedReport* report = nullptr);

}  // namespace doudi::cli

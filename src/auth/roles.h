// Sets of roles, as the case modules check them (the transition table, dynamic management,
// emergency help, credit lists): a bit per auth::Role.
#pragma once

#include <cstdint>

#include "auth/auth.h"

namespace doudi::auth {

constexpr uint32_t RoleBit(Role r) { return 1u << static_cast<int>(r); }

// Town clerk and town reviewer.
inline constexpr uint32_t kTownRoles = RoleBit(Role::kTownClerk) | RoleBit(Role::kTownReviewer);
// County admin and county reviewer.
inline constexpr uint32_t kCountyRoles = RoleBit(Role::kCountyAdmin) | RoleBit(Role::kCountyReviewer);
inline constexpr uint32_t kVillageRoles = RoleBit(Role::kVillageAssistant);

constexpr bool RoleIn(Role r, uint32_t roles) { return (roles & RoleBit(r)) != 0; }

}  // namespace doudi::auth

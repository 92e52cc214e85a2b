// Users, roles, sessions and region scope.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "storage/database.h"

namespace doudi::auth {

enum class Role {
  kCountyAdmin,
  kCountyReviewer,
  kTownClerk,
  kTownReviewer,
  kVillageAssistant,
  kDepartmentLiaison,
  kSupervisor,
  kAuditor,
};

std::optional<Role> ParseRole(std::string_view name);
const char* RoleName(Role role);
// The region level a role's region_code must have.
RegionLevel RoleLevel(Role role);

bool CanReadRegistry(Role r);
bool CanWriteRegistry(Role r);
bool CanManageUsers(Role r);
bool CanReadAudit(Role r);

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  Role role = Role::kSupervisor;
  std::string region_code;
  std::string region_name;
  std::string department;
  bool disabled = false;
  int64_t version = 1;

  audit::Actor actor() const { return {id, username}; }
  RegionLevel scope_level() const { return LevelOfCode(region_code); }
};

// The authenticated caller of a request.
struct Principal {
  User user;
  std::string csrf_token;
};

struct LoginResult {
  User user;
  std::string session_token;  // goes into the cookie; only its hash is stored
  std::string csrf_token;
};

struct NewUser {
  std::string username;
  std::string password;
  std::string display_name;
  std::string role;
  std::string region_code;
  std::string department;
};

struct UserPatch {
  std::optional<std::string> display_name;
  std::optional<bool> disabled;
  std::optional<std::string> password;
  int64_t version = 0;
};

struct UserPage {
  std::vector<User> items;
  int64_t total = 0;
};

// Thread-safe; every method borrows its own connection.
class AuthService {
 public:
  static constexpr int kMaxFailedLogins = 5;
  static constexpr int64_t kLockSeconds = 15 * 60;
  static constexpr int64_t kIdleSeconds = 30 * 60;

  explicit AuthService(storage::Database& db) : db_(db) {}

  // 401 invalid_credentials on a wrong name/password or a disabled account; 423
  // account_locked after kMaxFailedLogins failures in a row (for kLockSeconds).
  Result<LoginResult> Login(const std::string& username, const std::string& password);
  // 401 unauthenticated when the token is unknown, idle too long or the user is disabled.
  // Sessions are cached in memory for kSessionRecheckSeconds: changes made through this
  // service (logout, disabling a user, a password reset, any user edit) drop the cached
  // sessions at once; changes made by another process (the CLI) are seen within that time.
  Result<Principal> Authenticate(const std::string& session_token);
  static constexpr int kSessionRecheckMillis = 1000;
  Status Logout(const std::string& session_token);

  // County admins manage users within their county.
  Result<User> CreateUser(const User& actor, const NewUser& in);
  Result<User> UpdateUser(const User& actor, int64_t id, const UserPatch& patch);
  Result<UserPage> ListUsers(const User& actor, int64_t page, int64_t page_size);

  // For the CLI and seeding: no actor checks, audited as "system".
  Result<User> CreateUserUnchecked(storage::Connection& conn, const NewUser& in);
  Status SetDisabledUnchecked(const std::string& username, bool disabled);
  Status ResetPasswordUnchecked(const std::string& username, const std::string& password);

 private:
  Result<User> LoadUser(storage::Connection& conn, int64_t id);
  Status Validate(storage::Connection& conn, const NewUser& in);
  void ForgetSessionsOf(int64_t user_id);
  storage::Database& db_;

  struct CachedSession {
    Principal principal;
    int64_t last_seen = 0;                           // as stored in the database
    std::chrono::steady_clock::time_point checked;  // when the row was last read
  };
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedSession> cache_;  // by token hash
  uint64_t forgets_ = 0;  // bumped on every invalidation: a read racing one is not cached
};

// Password rule: at least 10 characters with letters and digits. Field "password".
Status CheckPasswordStrength(const std::string& password);
// argon2id (libsodium, interactive limits).
Result<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);
std::string RandomToken();  // 64 hex characters

}  // namespace doudi::auth

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
// County admin and auditor accounts: created and changed only through the CLI (三员分立).
bool ManagedByCliOnly(Role r);
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
  bool must_change_password = false;  // created by an admin or the CLI, or reset: change at next login
  int64_t password_changed_at = 0;    // unix seconds
  bool totp_enabled = false;          // a second factor (TOTP) is enrolled

  // Whether this role must log in with a second factor (county admin and auditor).
  bool needs_totp() const;

  audit::Actor actor() const { return {id, username}; }
  RegionLevel scope_level() const { return LevelOfCode(region_code); }
};

// The authenticated caller of a request.
struct Principal {
  User user;
  std::string csrf_token;
  // What the session must do before it may do anything else: "" (nothing),
  // "password_change" (first login, reset or expired password) or "totp_enrolment"
  // (a county admin or auditor without a second factor). Derived from the user's row on
  // every check, so it ends as soon as the user has done it.
  std::string pending;
};
// The pending step of a user's sessions ("" when none), at `now` (unix seconds).
std::string PendingOf(const User& u, int64_t now);

struct LoginResult {
  User user;
  std::string pending;  // as Principal::pending
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
  bool must_change_password = true;  // false only for seed-demo's accounts
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
  static constexpr int64_t kAbsoluteSeconds = 12 * 3600;         // a session's whole life
  static constexpr int64_t kPasswordMaxAgeSeconds = 90 * 86400;  // then it must be changed
  static constexpr size_t kUnknownNamesTracked = 10000;
  // Tries refused by a lock younger than this wait (up to 4 s) for the concurrent tries that
  // may lift it (a right password among them), so parallel logins of one user all succeed.
  static constexpr int64_t kSettleSeconds = 2;
  static constexpr int kMaxLoginWaiters = 2;  // request threads that may wait so at once

  explicit AuthService(storage::Database& db) : db_(db) {}

  // 401 invalid_credentials on a wrong name/password/code or a disabled account; 423
  // account_locked after kMaxFailedLogins failures in a row (for kLockSeconds). Every try is
  // counted (atomically, on the user's row) before the password is verified, so at most
  // kMaxFailedLogins passwords are verified per lock period whatever the concurrency. Unknown
  // names answer exactly like known ones (a real argon2id decoy hash; the same lock, kept in
  // memory). With TOTP enrolled, a right password without `totp_code` answers 401
  // totp_required; a code is accepted once (replays of a used time step are refused).
  Result<LoginResult> Login(const std::string& username, const std::string& password,
                            const std::string& totp_code = "");
  // Changes the caller's own password: the old one is checked (counted like a login try),
  // the new one must satisfy the rules. Other sessions of the user end.
  Status ChangePassword(const Principal& p, const std::string& session_token, const std::string& old_password,
                        const std::string& new_password);
  struct TotpEnrolment {
    std::string secret;  // base32
    std::string uri;     // otpauth://totp/…
  };
  // Starts (or restarts) TOTP enrolment of the caller: a new secret, not yet active.
  // 409 when already enrolled.
  Result<TotpEnrolment> BeginTotp(const Principal& p);
  // Activates the secret from BeginTotp when `code` is right (field "code").
  Status ConfirmTotp(const Principal& p, const std::string& code);
  // 401 unauthenticated when the token is unknown, idle too long or the user is disabled.
  // Sessions are cached in memory for kSessionRecheckSeconds: changes made through this
  // service (logout, disabling a user, a password reset, any user edit) drop the cached
  // sessions at once; changes made by another process (the CLI) are seen within that time.
  Result<Principal> Authenticate(const std::string& session_token);
  // Computes the decoy argon2id hash that unknown names are verified against (else the first
  // login does it); `serve` calls it at start.
  static void PrepareDecoy();
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
  // Clears a user's TOTP enrolment (a lost phone); the user enrols again at next login.
  Status ResetTotpUnchecked(const std::string& username);
  // Enrols TOTP with a new secret (seeding demo accounts); returns the base32 secret.
  Result<std::string> EnrolTotpUnchecked(storage::Connection& conn, int64_t user_id);
  // Deletes sessions past their idle or absolute limit; returns how many.
  Result<int64_t> PurgeExpiredSessions(storage::Connection& conn);

 private:
  // Login's steps: the try counted on the user's row (waiting, in a bounded number of threads,
  // for concurrent tries on a freshly locked name), and the session opened after the checks.
  struct LoginClaim {
    storage::Lease conn;    // the connection that counted the try
    storage::ResultSet rows;  // the user's row (columns: see ClaimLoginTry)
    int64_t now = 0;
  };
  struct LoginWaitSlot;
  Result<LoginClaim> ClaimLoginTry(const std::string& username, const std::string& password, LoginWaitSlot& slot);
  Result<LoginResult> OpenSession(storage::Connection& conn, const audit::Actor& actor, const std::string& region_code,
                                  int64_t now);
  Status UpdateUserUnchecked(const std::string& username, const std::string& update, const storage::Params& params,
                             bool end_sessions, const std::string& action, const std::string& after);
  Result<User> LoadUser(storage::Connection& conn, int64_t id);
  Status Validate(storage::Connection& conn, const NewUser& in);
  void ForgetSessionsOf(int64_t user_id);
  // Counts a login try of an unknown name; false when that name is locked (*locked_until set).
  bool ClaimUnknown(const std::string& username, int64_t now, int64_t* locked_until);
  storage::Database& db_;

  struct UnknownName {
    int failed = 0;
    int64_t locked_until = 0;
    int64_t last = 0;
  };
  std::mutex unknown_mu_;
  std::unordered_map<std::string, UnknownName> unknown_;

  struct CachedSession {
    Principal principal;
    int64_t last_seen = 0;                           // as stored in the database
    int64_t created_at = 0;
    std::chrono::steady_clock::time_point checked;  // when the row was last read
  };
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedSession> cache_;  // by token hash
  uint64_t forgets_ = 0;  // bumped on every invalidation: a read racing one is not cached
};

// Password rules (GB/T 22239-2019 level 3 identification): at least 10 characters, three of
// the four classes (upper case, lower case, digits, other), not containing the username (any
// case), not a common password (a list in auth.cc). `field` names the field in the error.
Status CheckPasswordStrength(const std::string& password, const std::string& username = "",
                             const std::string& field = "password");
// A display name: 1..64 bytes, no control or bidirectional-override characters.
Status CheckDisplayName(const std::string& name);
// TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps).
std::string TotpCode(const std::string& secret_base32, int64_t step);
std::string Base32Encode(const std::string& bytes);
std::string Base32Decode(const std::string& text);  // empty on bad input
// argon2id (libsodium, interactive limits).
Result<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);
std::string RandomToken();  // 64 hex characters

}  // namespace doudi::auth

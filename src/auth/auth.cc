#include "auth/auth.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/date.h"

namespace doudi::auth {
namespace {

struct RoleInfo {
  Role role;
  const char* name;
  RegionLevel level;
};
constexpr RoleInfo kRoles[] = {
    {Role::kCountyAdmin, "county_admin", RegionLevel::kCounty},
    {Role::kCountyReviewer, "county_reviewer", RegionLevel::kCounty},
    {Role::kTownClerk, "town_clerk", RegionLevel::kTown},
    {Role::kTownReviewer, "town_reviewer", RegionLevel::kTown},
    {Role::kVillageAssistant, "village_assistant", RegionLevel::kVillage},
    {Role::kDepartmentLiaison, "department_liaison", RegionLevel::kCounty},
    {Role::kSupervisor, "supervisor", RegionLevel::kCounty},
    {Role::kAuditor, "auditor", RegionLevel::kCounty},
};

constexpr const char* kUserColumns =
    "u.id, u.username, u.display_name, u.role, u.region_code, r.name, u.department, u.disabled, u.version";

User UserFromRow(const storage::Row& r) {
  User u;
  u.id = r.Int(0);
  u.username = r.Text(1);
  u.display_name = r.Text(2);
  u.role = ParseRole(r.Text(3)).value_or(Role::kSupervisor);
  u.region_code = r.Text(4);
  u.region_name = r.Text(5);
  u.department = r.Text(6);
  u.disabled = r.Bool(7);
  u.version = r.Int(8);
  return u;
}

std::string UserAuditJson(const User& u) {
  return nlohmann::json{{"username", u.username}, {"display_name", u.display_name},
                        {"role", RoleName(u.role)}, {"region_code", u.region_code},
                        {"department", u.department}, {"disabled", u.disabled}}
      .dump();
}

Status InvalidCredentials() {
  return Status(Code::kUnauthenticated, "invalid_credentials", "用户名或密码错误");
}

}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& r : kRoles)
    if (name == r.name) return r.role;
  return std::nullopt;
}
const char* RoleName(Role role) {
  for (const auto& r : kRoles)
    if (r.role == role) return r.name;
  return "";
}
RegionLevel RoleLevel(Role role) {
  for (const auto& r : kRoles)
    if (r.role == role) return r.level;
  return RegionLevel::kInvalid;
}

bool CanReadRegistry(Role r) { return r != Role::kDepartmentLiaison; }
bool CanWriteRegistry(Role r) {
  return r == Role::kCountyAdmin || r == Role::kCountyReviewer || r == Role::kTownClerk ||
         r == Role::kTownReviewer || r == Role::kVillageAssistant;
}
bool CanManageUsers(Role r) { return r == Role::kCountyAdmin; }
bool CanReadAudit(Role r) { return r == Role::kAuditor || r == Role::kCountyAdmin || r == Role::kSupervisor; }

Status CheckPasswordStrength(const std::string& p) {
  bool letter = false, digit = false;
  for (unsigned char c : p) {
    if (std::isalpha(c)) letter = true;
    if (std::isdigit(c)) digit = true;
  }
  if (p.size() < 10 || !letter || !digit)
    return Status::InvalidArgument("password", "密码至少10位，且须同时包含字母和数字");
  return Status::Ok();
}

Result<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("argon2id hashing failed (out of memory?)");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomToken() {
  unsigned char buf[32];
  randombytes_buf(buf, sizeof buf);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, buf, sizeof buf);
  return hex;
}

Result<User> AuthService::LoadUser(storage::Connection& conn, int64_t id) {
  auto rs = conn.Query(std::string("SELECT ") + kUserColumns +
                           " FROM users u JOIN regions r ON r.code = u.region_code WHERE u.id = ?",
                       {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("用户不存在");
  return UserFromRow(rs->rows[0]);
}

Result<LoginResult> AuthService::Login(const std::string& username, const std::string& password) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT id, password_hash, disabled, failed_logins, locked_until, region_code FROM users WHERE username = ?",
      {username});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) {
    // Spend comparable time so unknown names cannot be told apart by timing.
    VerifyPassword("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", password);
    return InvalidCredentials();
  }
  const auto& row = rs->rows[0];
  int64_t id = row.Int(0);
  int64_t now = NowUnixSeconds();
  if (row.Int(4) > now)
    return Status(Code::kLocked, "account_locked", "登录失败次数过多，账号已锁定15分钟");
  audit::Actor actor{id, username};
  if (row.Bool(2) || !VerifyPassword(row.Text(1), password)) {
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    int64_t failed = row.Int(3) + 1;
    int64_t locked_until = 0;
    if (failed >= kMaxFailedLogins) {
      locked_until = now + kLockSeconds;
      failed = 0;
    }
    auto upd = conn->Execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                             {failed, locked_until, id});
    if (!upd.ok()) return upd.status();
    DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
        *conn, actor,
        {locked_until ? "session.lock" : "session.login_failed", "user", std::to_string(id), row.Text(5), "null",
         "null"}));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    return InvalidCredentials();
  }
  LoginResult out;
  out.session_token = RandomToken();
  out.csrf_token = RandomToken();
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto upd = conn->Execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?", {id});
  if (!upd.ok()) return upd.status();
  auto ins = conn->Execute(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
      {audit::Sha256Hex(out.session_token), id, out.csrf_token, now, now});
  if (!ins.ok()) return ins.status();
  DOUDI_RETURN_IF_ERROR(
      audit::RecordWrite(*conn, actor, {"session.login", "user", std::to_string(id), row.Text(5), "null", "null"}));
  DOUDI_ASSIGN_OR_RETURN(out.user, LoadUser(*conn, id));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<Principal> AuthService::Authenticate(const std::string& token) {
  if (token.empty()) return Status::Unauthenticated();
  std::string hash = audit::Sha256Hex(token);
  int64_t now = NowUnixSeconds();
  auto clock = std::chrono::steady_clock::now();
  uint64_t forgets;
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    forgets = forgets_;
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      // A fresh entry answers unless the idle rules need the database (expiry or the
      // once-a-minute last_seen refresh).
      if (clock - it->second.checked < std::chrono::milliseconds(kSessionRecheckMillis) &&
          now - it->second.last_seen <= 60)
        return it->second.principal;
      cache_.erase(it);
    }
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(std::string("SELECT s.csrf_token, s.last_seen, ") + kUserColumns +
                            " FROM sessions s JOIN users u ON u.id = s.user_id"
                            " JOIN regions r ON r.code = u.region_code WHERE s.token_hash = ?",
                        {hash});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::Unauthenticated();
  const auto& row = rs->rows[0];
  int64_t last_seen = row.Int(1);
  storage::Row user_row;
  user_row.cells.assign(row.cells.begin() + 2, row.cells.end());
  Principal p{UserFromRow(user_row), row.Text(0)};
  if (now - last_seen > kIdleSeconds || p.user.disabled) {
    conn->Execute("DELETE FROM sessions WHERE token_hash = ?", {hash});
    return Status::Unauthenticated("登录已超时，请重新登录");
  }
  if (now - last_seen > 60) {  // refresh at most once a minute: keeps reads cheap
    auto upd = conn->Execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", {now, hash});
    if (!upd.ok()) return upd.status();
    last_seen = now;
  }
  std::lock_guard<std::mutex> g(cache_mu_);
  if (forgets != forgets_) return p;  // an invalidation ran meanwhile: do not cache this read
  if (cache_.size() > 10000) cache_.clear();  // bound memory; entries are cheap to rebuild
  cache_[hash] = CachedSession{p, last_seen, clock};
  return p;
}

void AuthService::ForgetSessionsOf(int64_t user_id) {
  std::lock_guard<std::mutex> g(cache_mu_);
  ++forgets_;
  std::erase_if(cache_, [user_id](const auto& kv) { return kv.second.principal.user.id == user_id; });
}

Status AuthService::Logout(const std::string& token) {
  std::string hash = audit::Sha256Hex(token);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto r = conn->Execute("DELETE FROM sessions WHERE token_hash = ?", {hash});
  {
    std::lock_guard<std::mutex> g(cache_mu_);  // after the delete: a racing read is not cached
    ++forgets_;
    cache_.erase(hash);
  }
  return r.ok() ? Status::Ok() : r.status();
}

Status AuthService::Validate(storage::Connection& conn, const NewUser& in) {
  if (in.username.size() < 3 || in.username.size() > 32)
    return Status::InvalidArgument("username", "用户名应为3到32个字符");
  for (unsigned char c : in.username)
    if (!(std::isalnum(c) || c == '_' || c == '.' || c == '-'))
      return Status::InvalidArgument("username", "用户名只能包含字母、数字、下划线、点和连字符");
  if (in.display_name.empty() || in.display_name.size() > 64)
    return Status::InvalidArgument("display_name", "请填写姓名（不超过64字节）");
  DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(in.password));
  auto role = ParseRole(in.role);
  if (!role) return Status::InvalidArgument("role", "角色无效");
  auto rs = conn.Query("SELECT level FROM regions WHERE code = ?", {in.region_code});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::InvalidArgument("region_code", "区划代码不存在");
  if (rs->rows[0].Text(0) != RegionLevelName(RoleLevel(*role)))
    return Status::InvalidArgument("region_code", "该角色的所属区划层级不正确");
  if (*role == Role::kDepartmentLiaison && in.department.empty())
    return Status::InvalidArgument("department", "部门联络员须填写所属部门");
  return Status::Ok();
}

Result<User> AuthService::CreateUserUnchecked(storage::Connection& conn, const NewUser& in) {
  DOUDI_RETURN_IF_ERROR(Validate(conn, in));
  DOUDI_ASSIGN_OR_RETURN(std::string hash, HashPassword(in.password));
  auto rs = conn.Query(
      "INSERT INTO users (username, display_name, password_hash, role, region_code, department, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {in.username, in.display_name, hash, in.role, in.region_code, in.department, NowIsoShanghai()});
  if (!rs.ok()) {
    if (rs.status().code() == Code::kConflict) return Status::Conflict("username", "用户名已存在");
    return rs.status();
  }
  return LoadUser(conn, rs->rows[0].Int(0));
}

Result<User> AuthService::CreateUser(const User& actor, const NewUser& in) {
  if (!CanManageUsers(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  if (!in.region_code.empty() && !CodeWithin(in.region_code, actor.region_code))
    return Status::InvalidArgument("region_code", "只能在本县范围内创建用户");
  DOUDI_ASSIGN_OR_RETURN(User u, CreateUserUnchecked(*conn, in));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
      *conn, actor.actor(), {"user.create", "user", std::to_string(u.id), u.region_code, "null", UserAuditJson(u)}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return u;
}

Result<User> AuthService::UpdateUser(const User& actor, int64_t id, const UserPatch& patch) {
  if (!CanManageUsers(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto before = LoadUser(*conn, id);
  if (!before.ok() || !CodeWithin(before->region_code, actor.region_code)) return Status::NotFound("用户不存在");
  if (before->version != patch.version) return Status::VersionConflict();
  if (patch.display_name && (patch.display_name->empty() || patch.display_name->size() > 64))
    return Status::InvalidArgument("display_name", "请填写姓名（不超过64字节）");
  if (patch.disabled && *patch.disabled && id == actor.id)
    return Status::InvalidArgument("disabled", "不能停用自己的账号");
  std::string hash;
  if (patch.password) {
    DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(*patch.password));
    DOUDI_ASSIGN_OR_RETURN(hash, HashPassword(*patch.password));
  }
  auto upd = conn->Execute(
      "UPDATE users SET display_name = ?, disabled = ?, "
      "password_hash = CASE WHEN ? = '' THEN password_hash ELSE ? END, "
      "failed_logins = CASE WHEN ? = '' THEN failed_logins ELSE 0 END, "
      "locked_until = CASE WHEN ? = '' THEN locked_until ELSE 0 END, "
      "version = version + 1 WHERE id = ? AND version = ?",
      {patch.display_name.value_or(before->display_name),
       int64_t{patch.disabled.value_or(before->disabled) ? 1 : 0}, hash, hash, hash, hash, id, patch.version});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::VersionConflict();
  if (patch.disabled.value_or(false) || patch.password) {  // a reset password ends old sessions too
    auto del = conn->Execute("DELETE FROM sessions WHERE user_id = ?", {id});
    if (!del.ok()) return del.status();
  }
  DOUDI_ASSIGN_OR_RETURN(User after, LoadUser(*conn, id));
  nlohmann::json after_json = nlohmann::json::parse(UserAuditJson(after));
  if (patch.password) after_json["password_reset"] = true;
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"user.update", "user", std::to_string(id), after.region_code,
                                            UserAuditJson(*before), after_json.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(id);  // cached sessions carry the user's fields and disabled flag
  return after;
}

Result<UserPage> AuthService::ListUsers(const User& actor, int64_t page, int64_t page_size) {
  if (!CanManageUsers(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  std::string like = actor.region_code + "%";
  UserPage out;
  auto count = conn->Query("SELECT COUNT(*) FROM users WHERE region_code LIKE ?", {like});
  if (!count.ok()) return count.status();
  out.total = count->rows[0].Int(0);
  auto rs = conn->Query(std::string("SELECT ") + kUserColumns +
                            " FROM users u JOIN regions r ON r.code = u.region_code"
                            " WHERE u.region_code LIKE ? ORDER BY u.id LIMIT ? OFFSET ?",
                        {like, page_size, (page - 1) * page_size});
  if (!rs.ok()) return rs.status();
  for (const auto& r : rs->rows) out.items.push_back(UserFromRow(r));
  return out;
}

Status AuthService::SetDisabledUnchecked(const std::string& username, bool disabled) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query("UPDATE users SET disabled = ?, version = version + 1 WHERE username = ? RETURNING id, region_code",
                        {int64_t{disabled ? 1 : 0}, username});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("用户不存在：" + username);
  std::string id = rs->rows[0].Text(0);
  if (disabled) {
    auto del = conn->Execute("DELETE FROM sessions WHERE user_id = ?", {rs->rows[0].Int(0)});
    if (!del.ok()) return del.status();
  }
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
      *conn, {0, "system"},
      {disabled ? "user.disable" : "user.enable", "user", id, rs->rows[0].Text(1), "null",
       nlohmann::json{{"disabled", disabled}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(rs->rows[0].Int(0));
  return Status::Ok();
}

Status AuthService::ResetPasswordUnchecked(const std::string& username, const std::string& password) {
  DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(password));
  DOUDI_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query(
      "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0, version = version + 1 "
      "WHERE username = ? RETURNING id, region_code",
      {hash, username});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("用户不存在：" + username);
  auto del = conn->Execute("DELETE FROM sessions WHERE user_id = ?", {rs->rows[0].Int(0)});
  if (!del.ok()) return del.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, {0, "system"},
                                           {"user.reset_password", "user", rs->rows[0].Text(0),
                                            rs->rows[0].Text(1), "null", R"({"password_reset":true})"}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(rs->rows[0].Int(0));
  return Status::Ok();
}

}  // namespace doudi::auth

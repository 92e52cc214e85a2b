#include "auth/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <atomic>

#include <algorithm>
#include <cctype>
#include <thread>

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
    "u.id, u.username, u.display_name, u.role, u.region_code, r.name, u.department, u.disabled, u.version, "
    "u.must_change_password, u.password_changed_at, u.totp_enabled";

// Common passwords that pass the length and class rules (compared ignoring case). Written
// for this project from the patterns seen in published leak statistics (keyboard walks,
// "password"/"admin"/"woaini" with years and symbols); not a copy of any list.
constexpr const char* kCommonPasswords[] = {
    "password123", "password@123", "password#123", "password!123", "password1234", "passw0rd123",
    "p@ssw0rd123", "p@ssword123", "p@ssw0rd1234", "p@55w0rd123", "passw0rd!23", "password123!",
    "password2024", "password2025", "password2026", "password@2024", "password@2025", "password@2026",
    "admin@123456", "admin123456", "admin@12345", "admin#123456", "admin!123456", "admin1234567",
    "administrator1", "administrator123", "admin@2024", "admin@2025", "admin@2026", "adminadmin1",
    "qwerty123456", "qwerty@123456", "qwerty12345", "qwerty@12345", "qwertyuiop1", "qwertyuiop123",
    "qwer1234!@#$", "qwer@1234", "qwer1234qwer", "1qaz2wsx3edc", "1qaz@wsx3edc", "1qaz@wsx#edc",
    "1qaz2wsx#edc", "1qaz!qaz1qaz", "zaq12wsxcde3", "zaq1@wsx3edc", "!qaz2wsx3edc", "1q2w3e4r5t6y",
    "1q2w3e4r5t", "1q2w3e4r@t", "q1w2e3r4t5y6", "q1w2e3r4t5", "a1b2c3d4e5f6", "a1b2c3d4e5",
    "abc123456789", "abc@123456789", "abc@12345678", "abcd@1234567", "abcd1234!@#$", "abc123!@#456",
    "aa123456789", "aa@123456789", "aa1234567890", "aaa111222333", "asdf1234asdf", "asdfghjkl1",
    "asdfghjkl123", "asd123456789", "zxcvbnm123", "zxcvbnm@123", "zxcvbnm1234", "zxcvbnm12345",
    "woaini1314520", "woaini@1314", "woaini1314!", "woaini5201314", "iloveyou123", "iloveyou@123",
    "welcome@123", "welcome12345", "welcome@2024", "welcome@2025", "welcome@2026", "letmein1234",
    "changeme123", "changeme@123", "changeme1234", "test@123456", "test12345678", "test@1234567",
    "root@123456", "root1234567", "root@12345", "huawei@123", "huawei@1234", "huawei12345",
    "doudi@123456", "doudi123456", "doudi@2024", "doudi@2025", "doudi@2026", "minzheng@123",
    "minzheng123", "mzj@123456", "mzj123456789", "shebao@123", "china@12345", "china123456",
    "beijing@123", "beijing2008", "zhongguo@123", "a123456789!", "a1234567890", "1234567890a",
    "123456789a!", "123456abc!@", "123456qwerty", "123456789qwe", "123qwe!@#asd", "1234qwer!@#$",
    "12345678abc", "12345678a!", "11111111a!", "88888888a!", "66666666a!", "1234abcd!@#$",
};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A real argon2id hash (same parameters as HashPassword) of a random password: verifying
// against it costs what a real user's check costs.
const std::string& DecoyHash() {
  static const std::string hash = [] {
    auto h = HashPassword(RandomToken());
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

Status LockedStatus() { return Status(Code::kLocked, "account_locked", "登录失败次数过多，账号已锁定15分钟"); }

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
  u.must_change_password = r.Bool(9);
  u.password_changed_at = r.Int(10);
  u.totp_enabled = r.Bool(11);
  return u;
}

std::string UserAuditJson(const User& u) {
  return nlohmann::json{{"username", u.username}, {"display_name", u.display_name},
                        {"role", RoleName(u.role)}, {"region_code", u.region_code},
                        {"department", u.department}, {"disabled", u.disabled}}
      .dump();
}

Status CliOnly() {
  return Status::PermissionDenied("县级管理员和审计员账号只能由系统管理员在服务器上用命令行（doudi user …）管理");
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
// Separation of duties (三员分立): the county admin (安全管理员) manages ordinary accounts;
// county admin and auditor (审计管理员) accounts are managed only by the server's operator
// (系统管理员) through the CLI.
bool ManagedByCliOnly(Role r) { return r == Role::kCountyAdmin || r == Role::kAuditor; }

bool User::needs_totp() const { return role == Role::kCountyAdmin || role == Role::kAuditor; }

std::string PendingOf(const User& u, int64_t now) {
  if (u.must_change_password || now - u.password_changed_at > AuthService::kPasswordMaxAgeSeconds)
    return "password_change";
  if (u.needs_totp() && !u.totp_enabled) return "totp_enrolment";
  return "";
}
bool CanReadAudit(Role r) { return r == Role::kAuditor || r == Role::kCountyAdmin || r == Role::kSupervisor; }

Status CheckPasswordStrength(const std::string& p, const std::string& username, const std::string& field) {
  bool upper = false, lower = false, digit = false, other = false;
  for (unsigned char c : p) {
    if (std::isupper(c)) upper = true;
    else if (std::islower(c)) lower = true;
    else if (std::isdigit(c)) digit = true;
    else other = true;
  }
  size_t chars = 0;  // UTF-8 code points
  for (unsigned char c : p)
    if ((c & 0xC0) != 0x80) ++chars;
  if (chars < 10 || int{upper} + int{lower} + int{digit} + int{other} < 3)
    return Status::InvalidArgument(field, "密码至少10位，且须包含大写字母、小写字母、数字、其他符号中的至少三类");
  if (p.size() > 128) return Status::InvalidArgument(field, "密码不能超过128个字符");
  std::string lp = Lower(p);
  if (username.size() >= 3 && lp.find(Lower(username)) != std::string::npos)
    return Status::InvalidArgument(field, "密码不能包含用户名");
  for (const char* common : kCommonPasswords)
    if (lp == common) return Status::InvalidArgument(field, "该密码过于常见，请换一个");
  return Status::Ok();
}

Status CheckDisplayName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Status::InvalidArgument("display_name", "请填写姓名（不超过64字节）");
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    bool bad = c < 0x20 || c == 0x7F;
    if (c == 0xE2 && i + 2 < name.size()) {
      unsigned char b = name[i + 1], d = name[i + 2];
      // U+200B..U+200F (zero-width, LRM, RLM), U+202A..U+202E (embeddings, overrides),
      // U+2066..U+2069 (isolates)
      if (b == 0x80 && ((d >= 0x8B && d <= 0x8F) || (d >= 0xAA && d <= 0xAE))) bad = true;
      if (b == 0x81 && d >= 0xA6 && d <= 0xA9) bad = true;
    }
    if (c == 0xD8 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0x9C) bad = true;  // U+061C
    if (c == 0xEF && i + 2 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0xBB &&
        static_cast<unsigned char>(name[i + 2]) == 0xBF)
      bad = true;  // U+FEFF
    if (bad) return Status::InvalidArgument("display_name", "姓名不能包含控制字符或文字方向控制字符");
  }
  return Status::Ok();
}

std::string Base32Encode(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string Base32Decode(const std::string& text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a';
    else if (ch >= '2' && ch <= '7') v = ch - '2' + 26;
    else if (ch == '=' || ch == ' ') continue;
    else return "";
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string TotpCode(const std::string& secret_base32, int64_t step) {
  std::string key = Base32Decode(secret_base32);
  if (key.empty()) return "";
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(step & 0xFF);
    step >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, sizeof msg, mac, &len) || len < 20) return "";
  int offset = mac[len - 1] & 0x0F;
  uint32_t bin = ((mac[offset] & 0x7F) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06u", bin % 1000000);
  return buf;
}

namespace {
// The step (of now-1, now, now+1) whose code is `code` and which is after `after`; 0 if none.
int64_t MatchTotp(const std::string& secret, const std::string& code, int64_t now, int64_t after) {
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos) return 0;
  int64_t step = now / 30;
  for (int64_t s = step - 1; s <= step + 1; ++s) {
    if (s <= after) continue;
    std::string want = TotpCode(secret, s);
    if (want.size() == 6 && sodium_memcmp(want.data(), code.data(), 6) == 0) return s;
  }
  return 0;
}
}  // namespace

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

bool AuthService::ClaimUnknown(const std::string& username, int64_t now, int64_t* locked_until) {
  std::string key = username.substr(0, 64);
  std::lock_guard<std::mutex> g(unknown_mu_);
  auto it = unknown_.find(key);
  if (it == unknown_.end()) {
    if (unknown_.size() >= kUnknownNamesTracked) {  // bound memory: drop the unlocked, then all
      std::erase_if(unknown_, [now](const auto& kv) { return kv.second.locked_until <= now; });
      if (unknown_.size() >= kUnknownNamesTracked) unknown_.clear();
    }
    it = unknown_.emplace(key, UnknownName{}).first;
  }
  UnknownName& u = it->second;
  *locked_until = u.locked_until;
  if (u.locked_until > now) return false;
  u.last = now;
  if (++u.failed >= kMaxFailedLogins) {
    u.failed = 0;
    u.locked_until = now + kLockSeconds;
  }
  return true;
}

void AuthService::PrepareDecoy() { (void)DecoyHash(); }

Result<int64_t> AuthService::PurgeExpiredSessions(storage::Connection& conn) {
  int64_t now = NowUnixSeconds();
  auto del = conn.Execute("DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                          {now - kIdleSeconds, now - kAbsoluteSeconds});
  if (!del.ok()) return del.status();
  return static_cast<int64_t>(*del);
}

namespace {
std::atomic<int> login_waiters{0};
}  // namespace

// Waiting for concurrent tries (ClaimLoginTry) holds a request thread: at most
// kMaxLoginWaiters do it at once, so that a flood of tries on freshly locked names cannot take
// every thread; the others answer "locked" at once. A login that waited keeps its slot until
// it returns.
struct AuthService::LoginWaitSlot {
  bool held = false;
  ~LoginWaitSlot() {
    if (held) login_waiters.fetch_sub(1);
  }
  // False when kMaxLoginWaiters already wait.
  bool Take() {
    if (held) return true;
    if (login_waiters.fetch_add(1) >= kMaxLoginWaiters) {
      login_waiters.fetch_sub(1);
      return false;
    }
    held = true;
    return true;
  }
};

// The try is counted before the password is verified, in one statement on the user's row
// (atomic on both databases): the kMaxFailedLogins-th try since the last success sets the lock
// at once, so concurrent tries cannot verify more passwords than that. Returns the user's row
// (id, password_hash, disabled, locked_until, region_code, totp_enabled, totp_secret,
// totp_last_step) on the connection that counted it.
Result<AuthService::LoginClaim> AuthService::ClaimLoginTry(const std::string& username, const std::string& password,
                                                          LoginWaitSlot& slot) {
  for (int wait = 0;; ++wait) {
    int64_t now = NowUnixSeconds();
    {  // the connection goes back to the pool before any wait
      DOUDI_ASSIGN_OR_RETURN(storage::Lease l, db_.Acquire());
      auto rs = l->Query(
          "UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END, "
          "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE 0 END "
          "WHERE username = ? AND locked_until <= ? "
          "RETURNING id, password_hash, disabled, locked_until, region_code, totp_enabled, totp_secret, totp_last_step",
          {int64_t{kMaxFailedLogins}, int64_t{kMaxFailedLogins}, now + kLockSeconds, username, now});
      if (!rs.ok()) return rs.status();
      if (!rs->empty()) return LoginClaim{std::move(l), std::move(rs).value(), now};
      auto known = l->Query("SELECT locked_until FROM users WHERE username = ?", {username});
      if (!known.ok()) return known.status();
      int64_t locked_until = 0;
      if (known->empty()) {
        // An unknown name: the same answers, the same cost, the same lock (kept in memory).
        if (ClaimUnknown(username, now, &locked_until)) {
          VerifyPassword(DecoyHash(), password);
          return InvalidCredentials();
        }
      } else {
        locked_until = known->rows[0].Int(0);
      }
      // Locked. A lock set within the last kSettleSeconds may have been set by the 5th of
      // several concurrent tries still being checked (right passwords among them lift it):
      // wait for them, without holding a connection. Unknown names wait alike.
      if (now - (locked_until - kLockSeconds) >= kSettleSeconds || wait >= 40) return LockedStatus();
      if (!slot.Take()) return LockedStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

namespace {

// A refused try of a known user: its audit entry (a lock when this try set it), then `answer`.
Status RefuseLogin(storage::Connection& conn, const audit::Actor& actor, const storage::Row& row, bool locks,
                   const char* reason, Status answer) {
  storage::Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
      conn, actor,
      {locks ? "session.lock" : "session.login_failed", "user", std::to_string(actor.id), row.Text(4), "null",
       nlohmann::json{{"reason", reason}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return answer;
}

// The second factor, when one is enrolled: nullptr when the code is right (its time step is
// then used up: a replayed code is refused), else the reason to refuse with and the answer.
Result<const char*> CheckSecondFactor(storage::Connection& conn, const storage::Row& row, const std::string& totp_code,
                                      int64_t now, Status* answer) {
  if (!row.Bool(5)) return nullptr;
  if (totp_code.empty()) {
    *answer = Status(Code::kUnauthenticated, "totp_required", "请输入动态验证码", "totp_code");
    return "totp_missing";
  }
  int64_t step = MatchTotp(row.Text(6), totp_code, now, row.Int(7));
  if (step) {  // accept each time step once: a replayed code is refused
    auto used = conn.Execute("UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                             {step, row.Int(0), step});
    if (!used.ok()) return used.status();
    if (*used == 0) step = 0;
  }
  if (step) return nullptr;
  *answer = Status(Code::kUnauthenticated, "invalid_credentials", "动态验证码错误或已使用", "totp_code");
  return "totp";
}

}  // namespace

// A successful login: the tries reset, expired sessions deleted, a new session and its entry.
Result<LoginResult> AuthService::OpenSession(storage::Connection& conn, const audit::Actor& actor,
                                             const std::string& region_code, int64_t now) {
  const int64_t id = actor.id;
  LoginResult out;
  out.session_token = RandomToken();
  out.csrf_token = RandomToken();
  storage::Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto upd = conn.Execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?", {id});
  if (!upd.ok()) return upd.status();
  DOUDI_RETURN_IF_ERROR(PurgeExpiredSessions(conn).status());
  auto ins = conn.Execute(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
      {audit::Sha256Hex(out.session_token), id, out.csrf_token, now, now});
  if (!ins.ok()) return ins.status();
  DOUDI_RETURN_IF_ERROR(
      audit::RecordWrite(conn, actor, {"session.login", "user", std::to_string(id), region_code, "null", "null"}));
  DOUDI_ASSIGN_OR_RETURN(out.user, LoadUser(conn, id));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  out.pending = PendingOf(out.user, now);
  return out;
}

Result<LoginResult> AuthService::Login(const std::string& username, const std::string& password,
                                       const std::string& totp_code) {
  const std::string& decoy = DecoyHash();
  LoginWaitSlot slot;
  DOUDI_ASSIGN_OR_RETURN(LoginClaim claim, ClaimLoginTry(username, password, slot));
  storage::Connection& conn = *claim.conn;
  const auto& row = claim.rows.rows[0];
  const int64_t now = claim.now;
  bool locks = row.Int(3) > now;  // this try set the lock
  audit::Actor actor{row.Int(0), username};
  bool right = VerifyPassword(row.Text(1).empty() ? decoy : row.Text(1), password);
  if (row.Bool(2) || !right)
    return RefuseLogin(conn, actor, row, locks, right ? "disabled" : "password", InvalidCredentials());
  Status answer;
  DOUDI_ASSIGN_OR_RETURN(const char* refused, CheckSecondFactor(conn, row, totp_code, now, &answer));
  if (refused) return RefuseLogin(conn, actor, row, locks, refused, answer);
  return OpenSession(conn, actor, row.Text(4), now);
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
          now - it->second.last_seen <= 60 && now - it->second.created_at <= kAbsoluteSeconds)
        return it->second.principal;
      cache_.erase(it);
    }
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(std::string("SELECT s.csrf_token, s.last_seen, s.created_at, ") + kUserColumns +
                            " FROM sessions s JOIN users u ON u.id = s.user_id"
                            " JOIN regions r ON r.code = u.region_code WHERE s.token_hash = ?",
                        {hash});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::Unauthenticated();
  const auto& row = rs->rows[0];
  int64_t last_seen = row.Int(1);
  storage::Row user_row;
  user_row.cells.assign(row.cells.begin() + 3, row.cells.end());
  Principal p{UserFromRow(user_row), row.Text(0), ""};
  p.pending = PendingOf(p.user, now);
  if (now - last_seen > kIdleSeconds || now - row.Int(2) > kAbsoluteSeconds || p.user.disabled) {
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
  cache_[hash] = CachedSession{p, last_seen, row.Int(2), clock};
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
  DOUDI_RETURN_IF_ERROR(CheckDisplayName(in.display_name));
  DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(in.password, in.username));
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
      "INSERT INTO users (username, display_name, password_hash, role, region_code, department, created_at, "
      "must_change_password, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {in.username, in.display_name, hash, in.role, in.region_code, in.department, NowIsoShanghai(),
       int64_t{in.must_change_password ? 1 : 0}, NowUnixSeconds()});
  if (!rs.ok()) {
    if (rs.status().code() == Code::kConflict) return Status::Conflict("username", "用户名已存在");
    return rs.status();
  }
  return LoadUser(conn, rs->rows[0].Int(0));
}

Result<User> AuthService::CreateUser(const User& actor, const NewUser& in) {
  if (!CanManageUsers(actor.role)) return Status::PermissionDenied();
  if (auto role = ParseRole(in.role); role && ManagedByCliOnly(*role)) return CliOnly();
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
  if (ManagedByCliOnly(before->role)) return CliOnly();
  if (before->version != patch.version) return Status::VersionConflict();
  if (patch.display_name) DOUDI_RETURN_IF_ERROR(CheckDisplayName(*patch.display_name));
  if (patch.disabled && *patch.disabled && id == actor.id)
    return Status::InvalidArgument("disabled", "不能停用自己的账号");
  std::string hash;
  if (patch.password) {
    DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(*patch.password, before->username));
    DOUDI_ASSIGN_OR_RETURN(hash, HashPassword(*patch.password));
  }
  auto upd = conn->Execute(
      "UPDATE users SET display_name = ?, disabled = ?, "
      "password_hash = CASE WHEN ? = '' THEN password_hash ELSE ? END, "
      "failed_logins = CASE WHEN ? = '' THEN failed_logins ELSE 0 END, "
      "locked_until = CASE WHEN ? = '' THEN locked_until ELSE 0 END, "
      "must_change_password = CASE WHEN ? = '' THEN must_change_password ELSE 1 END, "
      "version = version + 1 WHERE id = ? AND version = ?",
      {patch.display_name.value_or(before->display_name),
       int64_t{patch.disabled.value_or(before->disabled) ? 1 : 0}, hash, hash, hash, hash, hash, id, patch.version});
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

// The operator's (CLI's) change of an account by name: `update` (an UPDATE … WHERE username = ?
// RETURNING id, region_code) and, with `end_sessions`, the
// user's sessions deleted, with a system audit entry, in one transaction; then the server's
// cached sessions of the user are dropped.
Status AuthService::UpdateUserUnchecked(const std::string& username, const std::string& update,
                                        const storage::Params& params, bool end_sessions, const std::string& action,
                                        const std::string& after) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query(update, params);
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("用户不存在：" + username);
  if (end_sessions) {
    auto del = conn->Execute("DELETE FROM sessions WHERE user_id = ?", {rs->rows[0].Int(0)});
    if (!del.ok()) return del.status();
  }
  DOUDI_RETURN_IF_ERROR(
      audit::RecordWrite(*conn, {0, "system"}, {action, "user", rs->rows[0].Text(0), rs->rows[0].Text(1), "null", after}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(rs->rows[0].Int(0));
  return Status::Ok();
}

Status AuthService::SetDisabledUnchecked(const std::string& username, bool disabled) {
  return UpdateUserUnchecked(
      username,
      "UPDATE users SET disabled = ?, version = version + 1 WHERE username = ? RETURNING id, region_code",
      {int64_t{disabled ? 1 : 0}, username}, disabled, disabled ? "user.disable" : "user.enable",
      nlohmann::json{{"disabled", disabled}}.dump());
}

Status AuthService::ResetPasswordUnchecked(const std::string& username, const std::string& password) {
  DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(password, username));
  DOUDI_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  return UpdateUserUnchecked(
      username,
      "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0, must_change_password = 1, "
      "version = version + 1 WHERE username = ? RETURNING id, region_code",
      {hash, username}, true, "user.reset_password", R"({"password_reset":true})");
}

Status AuthService::ChangePassword(const Principal& p, const std::string& session_token,
                                   const std::string& old_password, const std::string& new_password) {
  DOUDI_RETURN_IF_ERROR(CheckPasswordStrength(new_password, p.user.username, "new_password"));
  if (old_password == new_password) return Status::InvalidArgument("new_password", "新密码不能与原密码相同");
  int64_t now = NowUnixSeconds();
  int64_t id = p.user.id;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  // The old password is a password guess like a login's: counted first, and locked alike.
  auto claim = conn->Query(
      "UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END, "
      "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE 0 END "
      "WHERE id = ? AND locked_until <= ? RETURNING password_hash, region_code",
      {int64_t{kMaxFailedLogins}, int64_t{kMaxFailedLogins}, now + kLockSeconds, id, now});
  if (!claim.ok()) return claim.status();
  if (claim->empty()) return LockedStatus();
  std::string region = claim->rows[0].Text(1);
  if (!VerifyPassword(claim->rows[0].Text(0), old_password)) {
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, p.user.actor(),
                                             {"user.change_password_failed", "user", std::to_string(id), region,
                                              "null", "null"}));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    return Status::InvalidArgument("old_password", "原密码不正确");
  }
  DOUDI_ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password));
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto upd = conn->Execute(
      "UPDATE users SET password_hash = ?, must_change_password = 0, password_changed_at = ?, failed_logins = 0, "
      "locked_until = 0 WHERE id = ?",
      {hash, now, id});
  if (!upd.ok()) return upd.status();
  auto del = conn->Execute("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
                           {id, audit::Sha256Hex(session_token)});
  if (!del.ok()) return del.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
      *conn, p.user.actor(), {"user.change_password", "user", std::to_string(id), region, "null", R"({"password_changed":true})"}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(id);
  return Status::Ok();
}

Result<AuthService::TotpEnrolment> AuthService::BeginTotp(const Principal& p) {
  if (p.user.totp_enabled) return Status::FailedPrecondition("已绑定动态验证码");
  unsigned char key[20];
  randombytes_buf(key, sizeof key);
  TotpEnrolment out;
  out.secret = Base32Encode(std::string(reinterpret_cast<char*>(key), sizeof key));
  out.uri = "otpauth://totp/doudi:" + p.user.username + "?secret=" + out.secret +
            "&issuer=doudi&algorithm=SHA1&digits=6&period=30";
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto upd = conn->Execute("UPDATE users SET totp_secret = ? WHERE id = ? AND totp_enabled = 0", {out.secret, p.user.id});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::FailedPrecondition("已绑定动态验证码");
  return out;
}

Status AuthService::ConfirmTotp(const Principal& p, const std::string& code) {
  int64_t now = NowUnixSeconds();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query("SELECT totp_secret, totp_enabled, region_code FROM users WHERE id = ?", {p.user.id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::Unauthenticated();
  if (rs->rows[0].Bool(1)) return Status::FailedPrecondition("已绑定动态验证码");
  if (rs->rows[0].Text(0).empty()) return Status::FailedPrecondition("请先获取动态验证码密钥", "code");
  int64_t step = MatchTotp(rs->rows[0].Text(0), code, now, 0);
  if (!step) return Status::InvalidArgument("code", "动态验证码不正确，请核对手机时间后重试");
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto upd = conn->Execute(
      "UPDATE users SET totp_enabled = 1, totp_last_step = ? WHERE id = ? AND totp_enabled = 0 "
      "AND totp_secret = ?",
      {step, p.user.id, rs->rows[0].Text(0)});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::FailedPrecondition("动态验证码密钥已变更，请重新绑定");
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, p.user.actor(),
                                           {"user.totp_enrol", "user", std::to_string(p.user.id),
                                            rs->rows[0].Text(2), "null", R"({"totp_enabled":true})"}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  ForgetSessionsOf(p.user.id);
  return Status::Ok();
}

Status AuthService::ResetTotpUnchecked(const std::string& username) {
  return UpdateUserUnchecked(
      username,
      "UPDATE users SET totp_enabled = 0, totp_secret = '', totp_last_step = 0, version = version + 1 "
      "WHERE username = ? RETURNING id, region_code",
      {username}, true, "user.reset_totp", R"({"totp_enabled":false})");
}

Result<std::string> AuthService::EnrolTotpUnchecked(storage::Connection& conn, int64_t user_id) {
  unsigned char key[20];
  randombytes_buf(key, sizeof key);
  std::string secret = Base32Encode(std::string(reinterpret_cast<char*>(key), sizeof key));
  auto upd = conn.Execute("UPDATE users SET totp_secret = ?, totp_enabled = 1, totp_last_step = 0 WHERE id = ?",
                          {secret, user_id});
  if (!upd.ok()) return upd.status();
  return secret;
}

}  // namespace doudi::auth

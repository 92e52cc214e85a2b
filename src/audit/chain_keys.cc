#include "audit/chain_keys.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/date.h"

namespace doudi::audit {
namespace fs = std::filesystem;

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.resize(2 * n);
  return out;
}

bool FromHex(std::string_view hex, unsigned char* out, size_t n) {
  size_t len = 0;
  return sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &len, nullptr) == 0 && len == n;
}

// Writes a new file with mode 0600; fails if it exists.
Status WriteSecretFile(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FailedPrecondition("无法创建密钥文件 " + path.string());
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return Status::FailedPrecondition("无法写入密钥文件 " + path.string());
  return Status::Ok();
}

Result<std::string> ReadKeyFile(const fs::path& path, bool secret) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status::FailedPrecondition("找不到审计密钥文件 " + path.string() +
                                      "（请先运行 doudi migrate 或 doudi audit keygen，或用 --audit-dir 指定密钥目录）");
  if (secret && (st.st_mode & 077) != 0)
    return Status::FailedPrecondition("审计密钥文件 " + path.string() + " 的权限过宽（应为 0600，仅属主可读）");
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

std::mutex keys_mu;
std::shared_ptr<const ChainKeys> keys;  // set at start (tests may replace it)
// Keys replaced stay alive: a pointer from CurrentKeys() never dangles.
std::vector<std::shared_ptr<const ChainKeys>> retired;

std::string AnchorText(const Anchor& a) {
  return "doudi-audit-anchor 1\nat " + a.at + "\naudit " + std::to_string(a.audit_id) + " " + a.audit_hash +
         "\nreads " + std::to_string(a.read_id) + " " + a.read_hash + "\n";
}

}  // namespace

std::string DefaultAuditDir(const std::string& db_url) {
  if (const char* env = std::getenv("DOUDI_AUDIT_DIR"); env && *env) return env;
  if (db_url.rfind("sqlite:", 0) == 0) {
    std::string path = db_url.substr(7);
    if (path.rfind("//", 0) == 0 && path.size() > 2 && path[2] == '/') path = path.substr(2);
    return path + ".audit";
  }
  // postgresql://user@host:port/name?options: var/audit/<name>
  std::string rest = db_url;
  auto q = rest.find('?');
  if (q != std::string::npos) rest = rest.substr(0, q);
  auto scheme = rest.find("://");
  std::string name = "postgresql";
  if (scheme != std::string::npos) {
    auto slash = rest.find('/', scheme + 3);
    if (slash != std::string::npos && slash + 1 < rest.size()) name = rest.substr(slash + 1);
  }
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-'; }, '_');
  return "var/audit/" + name;
}

Status CreateKeysIfMissing(const std::string& dir, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::FailedPrecondition("无法创建审计密钥目录 " + dir);
  ::chmod(dir.c_str(), 0700);
  const fs::path d(dir);
  if (!fs::exists(d / "hmac.key")) {
    unsigned char k[crypto_auth_hmacsha256_KEYBYTES];
    crypto_auth_hmacsha256_keygen(k);
    DOUDI_RETURN_IF_ERROR(WriteSecretFile(d / "hmac.key", Hex(k, sizeof k) + "\n"));
    sodium_memzero(k, sizeof k);
    if (created) *created = true;
  }
  if (!fs::exists(d / "sign.key")) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    DOUDI_RETURN_IF_ERROR(WriteSecretFile(d / "sign.key", Hex(sk, sizeof sk) + "\n"));
    sodium_memzero(sk, sizeof sk);
    std::error_code rm;
    fs::remove(d / "sign.pub", rm);
    std::ofstream pub(d / "sign.pub");
    pub << Hex(pk, sizeof pk) << "\n";
    if (!pub) return Status::FailedPrecondition("无法写入 " + (d / "sign.pub").string());
    if (created) *created = true;
  }
  fs::create_directories(d / "anchors", ec);
  return Status::Ok();
}

Result<ChainKeys> LoadKeys(const std::string& dir, const std::string& anchor_dir) {
  ChainKeys k;
  k.dir = dir;
  k.anchor_dir = anchor_dir.empty() ? (fs::path(dir) / "anchors").string() : anchor_dir;
  const fs::path d(dir);
  DOUDI_ASSIGN_OR_RETURN(std::string hmac, ReadKeyFile(d / "hmac.key", true));
  if (!FromHex(hmac, k.hmac.data(), k.hmac.size()))
    return Status::FailedPrecondition("审计密钥文件 " + (d / "hmac.key").string() + " 内容无效");
  k.hmac_hex = Hex(k.hmac.data(), k.hmac.size());
  DOUDI_ASSIGN_OR_RETURN(std::string sk, ReadKeyFile(d / "sign.key", true));
  if (!FromHex(sk, k.sign_sk.data(), k.sign_sk.size()))
    return Status::FailedPrecondition("签名密钥文件 " + (d / "sign.key").string() + " 内容无效");
  crypto_sign_ed25519_sk_to_pk(k.sign_pk.data(), k.sign_sk.data());
  // sign.pub, when present, must be the key's: anchors are checked with it.
  if (fs::exists(d / "sign.pub")) {
    DOUDI_ASSIGN_OR_RETURN(std::string pub, ReadKeyFile(d / "sign.pub", false));
    std::array<unsigned char, 32> pk{};
    if (!FromHex(pub, pk.data(), pk.size()) || pk != k.sign_pk)
      return Status::FailedPrecondition("签名公钥文件 " + (d / "sign.pub").string() + " 与签名密钥不符");
  }
  return k;
}

void UseKeys(const ChainKeys& k) {
  std::lock_guard<std::mutex> g(keys_mu);
  if (keys) retired.push_back(keys);
  keys = std::make_shared<const ChainKeys>(k);
}

const ChainKeys* CurrentKeys() {
  std::lock_guard<std::mutex> g(keys_mu);
  return keys.get();
}

Result<std::string> KeyedHashHex(std::string_view data) {
  const ChainKeys* k = CurrentKeys();
  if (!k) return Status::Internal("audit chain key not loaded (--audit-dir)");
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, k->hmac.data(), k->hmac.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&st, out);
  return Hex(out, sizeof out);
}

Result<std::string> WriteAnchor(storage::Connection& conn) {
  const ChainKeys* k = CurrentKeys();
  if (!k) return Status::Internal("audit chain key not loaded (--audit-dir)");
  Anchor a;
  a.at = NowIsoShanghai();
  {
    // One snapshot of both heads.
    storage::Transaction tx(conn, false);
    DOUDI_RETURN_IF_ERROR(tx.status());
    auto h = conn.Query("SELECT seq, last_hash FROM audit_head WHERE id = 1");
    if (!h.ok()) return h.status();
    auto r = conn.Query("SELECT seq, last_hash FROM read_head WHERE id = 1");
    if (!r.ok()) return r.status();
    if (h->empty() || r->empty()) return Status::Internal("chain head row missing");
    a.audit_id = h->rows[0].Int(0);
    a.audit_hash = h->rows[0].Text(1);
    a.read_id = r->rows[0].Int(0);
    a.read_hash = r->rows[0].Text(1);
  }
  std::string text = AnchorText(a);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       k->sign_sk.data());
  text += "signature " + Hex(sig, sizeof sig) + "\n";
  std::error_code ec;
  fs::create_directories(k->anchor_dir, ec);
  std::string stamp = a.at.substr(0, 19);  // YYYY-MM-DDTHH:MM:SS
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  for (int n = 0; n < 100; ++n) {
    fs::path p = fs::path(k->anchor_dir) /
                 ("anchor-" + stamp + "-" + std::to_string(a.audit_id) + (n ? "-" + std::to_string(n) : "") + ".txt");
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return Status::FailedPrecondition("无法写入锚点文件 " + p.string());
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) return Status::FailedPrecondition("无法写入锚点文件 " + p.string());
    return p.string();
  }
  return Status::FailedPrecondition("无法写入锚点文件（同一秒内过多）");
}

Result<std::vector<Anchor>> ReadAnchors() {
  const ChainKeys* k = CurrentKeys();
  if (!k) return Status::Internal("audit chain key not loaded (--audit-dir)");
  std::vector<Anchor> out;
  std::error_code ec;
  if (!fs::exists(k->anchor_dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(k->anchor_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("anchor-", 0) == 0 && e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    Anchor a;
    a.file = p.filename().string();
    std::ifstream in(p);
    std::string line, sig;
    std::string magic;
    std::getline(in, magic);
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string key;
      ls >> key;
      if (key == "at") ls >> a.at;
      else if (key == "audit") ls >> a.audit_id >> a.audit_hash;
      else if (key == "reads") ls >> a.read_id >> a.read_hash;
      else if (key == "signature") ls >> sig;
    }
    const std::string text = AnchorText(a);
    unsigned char s[crypto_sign_BYTES];
    a.signature_ok = magic == "doudi-audit-anchor 1" && FromHex(sig, s, sizeof s) &&
                     crypto_sign_verify_detached(s, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                                                 k->sign_pk.data()) == 0;
    out.push_back(std::move(a));
  }
  return out;
}

Status AnchorTodayIfMissing(storage::Database& db, bool* written) {
  if (written) *written = false;
  const ChainKeys* k = CurrentKeys();
  if (!k) return Status::Internal("audit chain key not loaded (--audit-dir)");
  std::string day = TodayShanghai();
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  std::error_code ec;
  if (fs::exists(k->anchor_dir, ec))
    for (const auto& e : fs::directory_iterator(k->anchor_dir, ec))
      if (e.path().filename().string().rfind("anchor-" + day + "T", 0) == 0) return Status::Ok();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  auto path = WriteAnchor(*conn);
  if (!path.ok()) return path.status();
  if (written) *written = true;
  return Status::Ok();
}

AnchorScheduler::AnchorScheduler(storage::Database& db, int interval_seconds,
                                 std::function<void(const std::string&)> log)
    : db_(db), interval_(interval_seconds), log_(std::move(log)) {}

AnchorScheduler::~AnchorScheduler() { Stop(); }

void AnchorScheduler::Start() { thread_ = std::thread([this] { Run(); }); }

void AnchorScheduler::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AnchorScheduler::Run() {
  pthread_setname_np(pthread_self(), "doudi-anchor");
  for (;;) {
    bool written = false;
    Status st = AnchorTodayIfMissing(db_, &written);
    if (!st.ok()) log_("audit anchor not written: " + st.message() + " " + st.detail());
    else if (written) log_("audit anchor written");
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(interval_), [this] { return stop_; })) return;
  }
}

}  // namespace doudi::audit

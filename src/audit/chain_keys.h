// The keys of the audit chain and the anchors of its head, kept outside the database.
//
// Key directory (`--audit-dir`, or $DOUDI_AUDIT_DIR, or by default beside the SQLite file —
// `<file>.audit/` — or `var/audit/<database name>/` for PostgreSQL), mode 0700:
//   hmac.key   32 random bytes (hex): the HMAC-SHA-256 key of both chains (audit_log, read_log)
//   sign.key   Ed25519 secret key (hex) that signs the anchors
//   sign.pub   its public key (hex): all that checking an anchor needs
//   anchors/   the anchor files (`--anchor-dir` elsewhere): one a day from `serve`, and one per
//              `doudi audit anchor`
// Key files are created with mode 0600 (by `migrate`, `seed-demo` or `audit keygen`) and
// refused when group or others may read them.
//
// An anchor is a small signed text: the chain heads (last id and hash of audit_log and of
// read_log) at a moment. `Verify` checks each anchored hash against the row of that id: a
// rewrite of the past, even one that recomputes the chain with the key, changes it.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/database.h"

namespace doudi::audit {

struct ChainKeys {
  std::string dir;         // the key directory
  std::string anchor_dir;  // where anchors are written and read
  std::array<unsigned char, 32> hmac{};
  std::string hmac_hex;    // the same, for PostgreSQL's hmac() (a statement parameter)
  std::array<unsigned char, 64> sign_sk{};
  std::array<unsigned char, 32> sign_pk{};
};

// The key directory for a database URL when no --audit-dir is given.
std::string DefaultAuditDir(const std::string& db_url);

// Creates the directory (0700) and any missing key file (0600). *created: whether a key was made.
Status CreateKeysIfMissing(const std::string& dir, bool* created = nullptr);

// Reads the keys; anchor_dir empty: `<dir>/anchors`.
Result<ChainKeys> LoadKeys(const std::string& dir, const std::string& anchor_dir = "");

// The process's keys (set once at start, before any thread writes). Writes to the chains fail
// while none are set.
void UseKeys(const ChainKeys& keys);
const ChainKeys* CurrentKeys();

// Hex HMAC-SHA-256 of data under the process's key.
Result<std::string> KeyedHashHex(std::string_view data);

struct Anchor {
  std::string file;  // file name
  std::string at;
  int64_t audit_id = 0;
  std::string audit_hash;
  int64_t read_id = 0;
  std::string read_hash;
  bool signature_ok = false;
};

// Writes an anchor of the current heads (signed) and returns its path.
Result<std::string> WriteAnchor(storage::Connection& conn);
// Every anchor file in the anchor directory, oldest first (signature checked, not the chain).
Result<std::vector<Anchor>> ReadAnchors();
// Writes an anchor unless one of today (Asia/Shanghai) exists. *written: whether it did.
Status AnchorTodayIfMissing(storage::Database& db, bool* written = nullptr);

// `serve`: an anchor a day. Checks at start and then every interval.
class AnchorScheduler {
 public:
  AnchorScheduler(storage::Database& db, int interval_seconds, std::function<void(const std::string&)> log);
  ~AnchorScheduler();
  void Start();
  void Stop();

 private:
  void Run();
  storage::Database& db_;
  int interval_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace doudi::audit

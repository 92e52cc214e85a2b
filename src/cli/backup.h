// `doudi backup` and `doudi restore`: a consistent copy of a live database and its return.
//
// SQLite: the online backup API (sqlite3_backup_*) copies every page in one step, under one
// read transaction of the source: a snapshot as of one commit, while the server goes on
// writing (WAL: readers do not block writers). PostgreSQL: pg_dump (custom format) in a
// snapshot exported by a REPEATABLE READ transaction that also reads the audit chain's head,
// so the manifest names the head the dump holds; pg_restore the other way, in one
// transaction. The connection parameters reach pg_dump/pg_restore through libpq's
// environment variables (PGHOST, PGPASSWORD, …), never on their command line (ps shows it).
//
// Each backup FILE gets FILE.manifest.json beside it: the kind of database, size and SHA-256
// of FILE, the audit chain's head (entries, hash) and the schema version at the snapshot.
// Restore checks the file against it, restores into an empty target, then verifies the
// audit chain and that its head is the one the manifest names.
#pragma once

#include <cstdint>
#include <string>

#include "audit/audit_log.h"
#include "common/status.h"
#include "storage/database.h"

namespace doudi::cli {

struct AuditHead {
  int64_t entries = 0;  // audit_head.seq: the id of the newest entry
  std::string hash;     // audit_head.last_hash
};

struct BackupReport {
  std::string kind;      // "sqlite" or "postgresql"
  std::string file;      // the backup, as given
  std::string manifest;  // file + ".manifest.json"
  uint64_t size = 0;
  std::string sha256;
  AuditHead head;
  int64_t schema_version = 0;
  std::string created_at;  // Beijing time, ISO 8601
};

// Writes a backup of `db_url` to `out` (and its manifest), mode 0600. Refuses an existing
// `out` or manifest unless `force`. Nothing is left at `out` when it fails (written beside it
// under a temporary name, then renamed).
Result<BackupReport> Backup(const std::string& db_url, const std::string& out, bool force);

struct RestoreReport {
  std::string kind;
  bool manifest_checked = false;  // false only with no_manifest
  AuditHead head;                 // as restored
  audit::VerifyReport verify;     // ok == false also when the head is not the manifest's
};

// Restores `in` into `db_url`, which must be empty (no table) unless `force` (then the
// backup's tables replace those of the target). With `no_manifest`, the file is restored
// without its manifest (no checksum to compare: only the database's own checks).
Result<RestoreReport> Restore(const std::string& db_url, const std::string& in, bool force, bool no_manifest);

// The audit chain verification of a restored database: the one place restore checks the
// chain (audit::Verify, as `doudi audit verify`); a keyed chain's key is passed here.
Result<audit::VerifyReport> VerifyRestored(storage::Connection& conn);

}  // namespace doudi::cli

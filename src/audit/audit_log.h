// The audit trail: a keyed hash chain of every write, plus a chained log of every read of
// personal data.
//
// Each audit_log row holds the hash of the previous row (prev_hash) and its own hash, an
// HMAC-SHA-256 under a key kept outside the database (chain_keys.h), over all its fields and
// prev_hash. The chain's head (last id and hash) sits in audit_head; the
// writer updates it first, which serializes concurrent writers on both databases, so the
// chain never forks. Entries are written in the caller's transaction: the write and its
// audit entry commit or roll back together.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include "storage/database.h"

namespace doudi::audit {

struct Actor {
  int64_t id = 0;          // 0 for the system (CLI, seeding)
  std::string username;    // "system" for the CLI
};

struct Entry {
  std::string action;       // e.g. "household.create"
  std::string entity;       // e.g. "household"
  std::string entity_id;
  std::string region_code;  // region of the record, for scoped audit views
  std::string before_json;  // "null" when created
  std::string after_json;   // "null" when deleted
};

// Appends an entry to the chain inside the caller's open write transaction.
Status RecordWrite(storage::Connection& conn, const Actor& actor, const Entry& entry);

// A write and its entry: runs `write` (an INSERT, UPDATE or DELETE with a RETURNING clause)
// and appends the entry only if it returned a row; returns the number of rows it returned.
// On PostgreSQL both are one statement (the entry's hash is computed by the database, under
// the chain head's row lock, so the lock is held for one round trip less). With `commit`,
// the transaction then commits (on PostgreSQL in the same round trip), whether or not the
// write returned a row: it must be the transaction's last statement and its first write (the
// process's committing writers queue on a mutex for that round trip; one that already held
// the chain head's row lock while queueing could deadlock with the one in front).
// With `feed_rev`, a write that changes one household's row in one statement (the registry
// change feed, migration 9, gives that statement one number) stores the number of its change
// there (0 when it returned no row), read in the same round trip.
Result<int64_t> RecordGuardedWrite(storage::Connection& conn, const std::string& write,
                                   const storage::Params& write_params, const Actor& actor, const Entry& entry,
                                   storage::Transaction* commit = nullptr, int64_t* feed_rev = nullptr);

// Logs a read of personal data in the caller's open write transaction, chained like ReadLog's
// rows (it locks the read log's head until the transaction ends).
Status RecordRead(storage::Connection& conn, const Actor& actor, std::string_view entity,
                  std::string_view entity_id, std::string_view region_code);

struct Enqueue;  // audit_log.cc: a caller's hand-off to ReadLog's and WriteQueue's writers

// What a request queued for commit and is still waiting to see committed (see DeferCommits):
// its read-log rows and its group-committed writes. Then() runs its callback once every one
// is done, with the first error if one failed (for a write, the error its request answers: a
// version conflict, say); at once when nothing is pending.
class CommitReceipt {
 public:
  bool Pending() const;
  // Nothing pending: the outcome of everything queued under it (the first error, or ok).
  // Empty while something is pending. A writer may finish before its requester looks, so
  // "not pending" alone does not mean "committed".
  std::optional<Status> Settled() const;
  void Then(std::function<void(Status)> done);

 private:
  friend class ReadLog;
  friend class WriteQueue;
  friend struct Enqueue;
  void Add();
  void Complete(const Status& status);

  mutable std::mutex mu_;
  int pending_ = 0;
  Status status_;
  std::function<void(Status)> done_;
};

// While a DeferCommits scope is alive on a thread, ReadLog::Record() and WriteQueue::Submit()
// on that thread queue their work under the scope's receipt and return at once instead of
// blocking the thread until the commit. The scope's owner (the HTTP server) must not release
// its response before the receipt's callback has run with an ok status, and answers the error
// instead otherwise: what the handler returned is provisional until then.
class DeferCommits {
 public:
  explicit DeferCommits(std::shared_ptr<CommitReceipt> receipt);
  ~DeferCommits();
  DeferCommits(const DeferCommits&) = delete;
  DeferCommits& operator=(const DeferCommits&) = delete;

 private:
  std::shared_ptr<CommitReceipt> previous_;
};

// Group commit for audited writes that are their transaction's only write (PostgreSQL). The
// chain head is one row, locked by each entry until its transaction commits, so one writer
// at a time could commit: the commit's WAL flush bounded the writes per second, and every
// writer waiting for it held a request thread. Here one writer thread commits each batch of
// queued writes in one transaction (BEGIN, the writes with their entries, COMMIT: one round
// trip, one flush); a batch that fails is retried one write per transaction, so each write
// gets its own outcome. On SQLite, whose commits are cheap and whose write transaction the
// caller already holds, Submit() writes and commits at once in the caller's transaction.
// Lock order: a guarded write locks its row, then the head. In a batch the head is held from
// the first write to the commit, so a later write waiting there for a row that another
// writer holds while that writer waits for the head would deadlock. A batch therefore takes
// every write's row lock first (RowLock, in key order, so that two processes' batches lock
// rows in the same order), and only then moves the head.
class WriteQueue {
 public:
  // The row lock a write's guard takes (e.g. "SELECT id FROM households WHERE id = ? FOR
  // UPDATE"), taken before any write of its batch; `key` orders the locks of a batch.
  struct RowLock {
    std::string sql;
    storage::Params params;
    int64_t key = 0;
  };
  struct Outcome {
    Status status;         // the commit's (not ok: not committed, unless the connection failed at the commit)
    int64_t rows = 0;      // rows the write returned; 0: it wrote nothing and has no entry
    int64_t feed_rev = 0;  // as RecordGuardedWrite's feed_rev
  };
  // Turns the outcome into the request's status; on PostgreSQL it runs on the writer thread
  // (keep it short, and take no lock that a caller of Submit holds).
  using Done = std::function<Status(const Outcome&)>;

  explicit WriteQueue(storage::Database& db);
  ~WriteQueue();  // commits what is queued, then stops the writer
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // `write` and its entry as RecordGuardedWrite; `lock` the row lock its guard takes (not
  // used on SQLite). `conn` holds `tx`, open and not yet written to (a caller holding the
  // chain head's row lock would wait for a batch that waits for it); on PostgreSQL the write
  // does not use them (the caller's transaction then only read, and rolls back; the writer
  // has a connection of its own, so callers that block here cannot starve it of one).
  // Returns what `done` returned, or, inside a DeferCommits scope on PostgreSQL, Ok at once
  // with the write pending on the scope's receipt.
  Status Submit(storage::Connection& conn, storage::Transaction& tx, std::string write, storage::Params params,
                const Actor& actor, const Entry& entry, RowLock lock, Done done);

 private:
  struct Slot {
    bool done = false;
    Status status;
  };
  struct Item {
    storage::Statement statement;
    storage::Statement lock;
    int64_t lock_key = 0;
    Done done;
    Slot* slot;                               // a blocked caller, or
    std::shared_ptr<CommitReceipt> receipt;   // a deferred one
  };
  void Run();
  void Write(std::vector<Item>& batch);
  std::vector<Outcome> Commit(std::vector<Item>& batch);

  storage::Database& db_;
  std::unique_ptr<storage::Connection> conn_;  // the writer's own; reopened after a failed batch
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::vector<Item> queue_;
  bool stop_ = false;
  std::thread writer_;  // PostgreSQL only
};

// Group commit for the read log: a row is committed in a transaction shared with the rows of
// every other request that arrived meanwhile (one writer thread; one commit — one fsync on
// PostgreSQL — per batch instead of per read). Record() returns once the row is committed, or,
// inside a DeferCommits scope, at once with the row pending on the scope's receipt. Nothing is
// released before its row is committed: a request whose row could not be committed gets the
// error. Call it holding no open transaction (the writer needs the write lock).
class ReadLog {
 public:
  explicit ReadLog(storage::Database& db);
  ~ReadLog();  // commits what is queued, then stops the writer
  ReadLog(const ReadLog&) = delete;
  ReadLog& operator=(const ReadLog&) = delete;

  Status Record(const Actor& actor, std::string_view entity, std::string_view entity_id,
                std::string_view region_code);

  // On PostgreSQL, a batch starts at least this long after the previous one started.
  static constexpr std::chrono::microseconds kPostgresCommitSpacing{3000};

 private:
  struct Slot {
    bool done = false;
    Status status;
  };
  struct Item {
    std::string at;
    int64_t actor_id;
    std::string actor, entity, entity_id, region_code;
    Slot* slot;                              // a blocked caller, or
    std::shared_ptr<CommitReceipt> receipt;    // a deferred one
  };
  void Run();
  Status Write(const std::vector<Item>& batch);

  storage::Database& db_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::vector<Item> queue_;
  bool stop_ = false;
  std::thread writer_;
};

struct VerifyReport {
  bool ok = true;
  int64_t entries = 0;
  int64_t first_broken_id = 0;       // audit_log; 0 when that chain and its anchors are ok
  std::string problem;               // English, for the CLI and logs (the first one found)
  int64_t reads = 0;                 // read-log rows verified
  int64_t first_broken_read_id = 0;  // read_log; 0 when ok
  int64_t anchors = 0;               // anchor files checked
};

// Recomputes both keyed chains (audit_log and read_log) with the process's key (chain_keys.h)
// and checks every anchor. Detects edited rows (hash mismatch: an edit with the chain
// recomputed without the key), deleted rows (gap in ids or broken prev_hash), a truncated
// tail (head does not match the last row), and a past rewritten even with the key (the row an
// anchor names no longer has the anchored hash).
Result<VerifyReport> Verify(storage::Connection& conn);

// `serve` refuses to start on a chain not yet re-keyed (see SealChain) or whose last entry
// does not verify with the loaded key (a wrong key directory).
Status CheckKeyMatchesChain(storage::Connection& conn);

struct SealReport {
  bool rekeyed = false;  // false: the chain was keyed already (or new)
  int64_t entries = 0, reads = 0;
};
// `migrate`, after migration 13: a chain written before it (plain SHA-256) is checked and, if
// intact, recomputed with the key in one transaction, the read log chained likewise; then
// both are append-only (triggers). A broken plain chain is refused and left as it is.
Result<SealReport> SealChain(storage::Connection& conn);

struct ListedEntry {
  int64_t id = 0;
  std::string at, actor, action, entity, entity_id, region_code, before_json, after_json, hash;
};
struct ListedRead {
  int64_t id = 0;
  std::string at, actor, entity, entity_id, region_code;
};
struct ListFilter {
  std::string scope;   // region code; entries of that subtree
  std::string entity;  // optional exact match
  std::string actor;   // optional exact match
  int64_t page = 1, page_size = 20;
};

// Newest first. *total receives the number of matching entries.
Result<std::vector<ListedEntry>> ListEntries(storage::Connection& conn, const ListFilter& f, int64_t* total);
Result<std::vector<ListedRead>> ListReads(storage::Connection& conn, const ListFilter& f, int64_t* total);

// Hex SHA-256 of data (libsodium). Call sodium_init() once before.
std::string Sha256Hex(std::string_view data);

}  // namespace doudi::audit

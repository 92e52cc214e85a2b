#include "audit/audit_log.h"

#include <pthread.h>
#include <sodium.h>

#include <algorithm>
#include <optional>

#include "audit/chain_keys.h"
#include "common/date.h"

namespace doudi::audit {

std::string Sha256Hex(std::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof out);
  for (unsigned char b : out) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

namespace {
constexpr char kSep = '\x1f';

// The hashed text after the entry's id and before the previous hash.
std::string HashedMiddle(const std::string& at, int64_t actor_id, const std::string& actor, const Entry& e) {
  std::string s(1, kSep);
  const std::string id = std::to_string(actor_id);
  for (const std::string* part : {&at, &id, &actor, &e.action, &e.entity, &e.entity_id, &e.region_code,
                                   &e.before_json, &e.after_json}) {
    s += *part;
    s += kSep;
  }
  return s;
}

// Before migration 13 the chain was plain SHA-256; SealChain re-keys such a chain.
std::string PlainEntryHash(int64_t id, const std::string& middle, const std::string& prev_hash) {
  return Sha256Hex(std::to_string(id) + middle + prev_hash + kSep);
}

// An entry's hash: HMAC-SHA-256, under the key kept outside the database, of its id, its
// fields and the previous entry's hash.
Result<std::string> EntryHash(int64_t id, const std::string& middle, const std::string& prev_hash) {
  return KeyedHashHex(std::to_string(id) + middle + prev_hash + kSep);
}

// A read-log row's hash, chained the same way.
Result<std::string> ReadHash(int64_t id, const std::string& at, int64_t actor_id, const std::string& actor,
                             const std::string& entity, const std::string& entity_id, const std::string& region,
                             const std::string& prev_hash) {
  std::string s = std::to_string(id);
  const std::string aid = std::to_string(actor_id);
  for (const std::string* part : {&at, &aid, &actor, &entity, &entity_id, &region, &prev_hash}) {
    s += kSep;
    s += *part;
  }
  s += kSep;
  return KeyedHashHex(s);
}

// The schema pgcrypto is installed in (migration 13 puts it in doudi_crypto, unless the
// database had it already), quoted, looked up once.
Result<std::string> PgCrypto(storage::Connection& conn) {
  static std::mutex mu;
  static std::string schema;
  std::lock_guard<std::mutex> g(mu);
  if (!schema.empty()) return schema;
  auto rs = conn.Query(
      "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pgcrypto'");
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::Internal("pgcrypto is not installed (migration 13)");
  schema = rs->rows[0].Text(0);
  return schema;
}

constexpr const char* kInsertEntry =
    "INSERT INTO audit_log (id, at, actor_id, actor, action, entity, entity_id, region_code, "
    "before_json, after_json, prev_hash, hash) ";

// PostgreSQL: the head moves and the entry is inserted in one statement; the new hash is
// computed by the database from the old head, exactly as EntryHash does (id, the middle,
// the previous hash, each followed by the separator; the database's text is UTF-8).
// `guard`, when given, is a data-modifying CTE: the entry is written only if it returned a row.
// With `feed_rev` the statement returns the entry's id and the registry feed's number of the
// guarded write's change: the head's registry_rev plus one, because the feed's statement
// trigger (migration 9), which runs after the statement's CTEs, takes the next number under
// the head's row lock that this statement already holds.
std::string PgEntryStatement(bool guarded, bool feed_rev, const std::string& crypto) {
  std::string sql = "WITH ";
  if (guarded) sql += "guard AS (%s), ";
  sql +=
      "head AS (UPDATE audit_head SET seq = seq + 1, prev_hash = last_hash, "
      "last_hash = encode(" + crypto + ".hmac(convert_to((seq + 1)::text || ? || last_hash || chr(31), 'UTF8'), "
      "decode(?, 'hex'), 'sha256'), 'hex') "
      "WHERE id = 1";
  if (guarded) sql += " AND EXISTS (SELECT 1 FROM guard)";
  sql += feed_rev ? " RETURNING seq, prev_hash, last_hash, registry_rev) " : " RETURNING seq, prev_hash, last_hash) ";
  sql += kInsertEntry;
  sql += "SELECT seq, ?, CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?, ?, prev_hash, last_hash FROM head";
  if (feed_rev) sql += " RETURNING id, (SELECT registry_rev + 1 FROM head)";
  return sql;
}

// The PostgreSQL statement of an entry (and its guarded write, when given).
// The caller has checked that the keys are loaded.
storage::Statement PgEntry(const std::string* write, const storage::Params* write_params, const Actor& actor,
                           const Entry& e, bool feed_rev, const std::string& crypto) {
  std::string at = NowIsoShanghai();
  std::string actor_name = actor.username.empty() ? "system" : actor.username;
  std::string middle = HashedMiddle(at, actor.id, actor_name, e);
  storage::Statement st{PgEntryStatement(write != nullptr, feed_rev, crypto), {}};
  if (write) {
    st.sql.replace(st.sql.find("%s"), 2, *write);
    st.params = *write_params;
  }
  st.params.reserve(st.params.size() + 11);
  for (storage::Value v : storage::Params{middle, CurrentKeys()->hmac_hex, at, actor.id, actor_name, e.action, e.entity, e.entity_id,
                                          e.region_code, e.before_json, e.after_json})
    st.params.push_back(std::move(v));
  return st;
}

Result<int64_t> WriteEntry(storage::Connection& conn, const std::string* write, const storage::Params* write_params,
                           const Actor& actor, const Entry& e, storage::Transaction* commit,
                           int64_t* feed_rev = nullptr) {
  if (!CurrentKeys()) return Status::Internal("audit chain key not loaded (--audit-dir)");
  if (conn.dialect() == storage::Dialect::kPostgres) {
    DOUDI_ASSIGN_OR_RETURN(std::string crypto, PgCrypto(conn));
    auto [sql, params] = PgEntry(write, write_params, actor, e, feed_rev != nullptr, crypto);
    Result<int64_t> n = int64_t{0};
    storage::ResultSet rows;
    if (commit) {
      // The statement takes the chain head's row lock and COMMIT releases it: writers of this
      // process queue here instead, which costs PostgreSQL no lock waits, wake-ups and
      // re-checks of the updated head (measured: see docs/benchmarks.md, fifth round).
      static std::mutex head_mu;
      std::lock_guard<std::mutex> g(head_mu);
      n = commit->CommitAfter(sql, params, feed_rev ? &rows : nullptr);
    } else if (feed_rev) {
      auto rs = conn.Query(sql, params);
      if (rs.ok()) rows = std::move(rs).value();
      n = rs.ok() ? Result<int64_t>(static_cast<int64_t>(rows.rows.size())) : Result<int64_t>(rs.status());
    } else {
      n = conn.Execute(sql, params);
    }
    if (!n.ok()) return n.status();
    if (*n == 0 && !write) return Status::Internal("audit_head row missing");
    if (feed_rev) *feed_rev = rows.empty() ? 0 : rows.rows[0].Int(1);
    return *n;
  }
  std::string at = NowIsoShanghai();
  std::string actor_name = actor.username.empty() ? "system" : actor.username;
  std::string middle = HashedMiddle(at, actor.id, actor_name, e);
  if (write) {
    auto rs = conn.Query(*write, *write_params);
    if (!rs.ok()) return rs.status();
    if (rs->empty()) {
      if (feed_rev) *feed_rev = 0;
      if (commit) DOUDI_RETURN_IF_ERROR(commit->Commit());
      return int64_t{0};
    }
  }
  // SQLite: the write transaction (BEGIN IMMEDIATE) already serialises writers.
  auto head = conn.Query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash");
  if (!head.ok()) return head.status();
  if (head->empty()) return Status::Internal("audit_head row missing");
  int64_t id = head->rows[0].Int(0);
  std::string prev = head->rows[0].Text(1);
  DOUDI_ASSIGN_OR_RETURN(std::string hash, EntryHash(id, middle, prev));
  auto ins = conn.Execute(std::string(kInsertEntry) + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          {id, at, actor.id, actor_name, e.action, e.entity, e.entity_id, e.region_code,
                           e.before_json, e.after_json, prev, hash});
  if (!ins.ok()) return ins.status();
  auto upd = conn.Execute("UPDATE audit_head SET prev_hash = last_hash, last_hash = ? WHERE id = 1", {hash});
  if (!upd.ok()) return upd.status();
  if (feed_rev) {
    // The write's change is the feed's last row: the transaction holds SQLite's write lock.
    auto last = conn.Query("SELECT MAX(rev) FROM registry_changes");
    if (!last.ok()) return last.status();
    *feed_rev = last->empty() ? 0 : last->rows[0].Int(0);
  }
  if (commit) DOUDI_RETURN_IF_ERROR(commit->Commit());
  return int64_t{1};
}
}  // namespace

Status RecordWrite(storage::Connection& conn, const Actor& actor, const Entry& e) {
  auto n = WriteEntry(conn, nullptr, nullptr, actor, e, nullptr);
  return n.ok() ? Status::Ok() : n.status();
}

Result<int64_t> RecordGuardedWrite(storage::Connection& conn, const std::string& write,
                                   const storage::Params& write_params, const Actor& actor, const Entry& entry,
                                   storage::Transaction* commit, int64_t* feed_rev) {
  return WriteEntry(conn, &write, &write_params, actor, entry, commit, feed_rev);
}

namespace {
struct ReadRow {
  std::string at;
  int64_t actor_id;
  std::string actor, entity, entity_id, region_code;
};

// Appends rows to the read log's chain in the caller's open write transaction: the head's row
// is locked (PostgreSQL) until the transaction ends, so appends never fork the chain. Multi-row
// INSERTs of up to 128 rows.
Status AppendReads(storage::Connection& conn, const std::vector<ReadRow>& rows) {
  if (rows.empty()) return Status::Ok();
  const bool pg = conn.dialect() == storage::Dialect::kPostgres;
  auto head = conn.Query(pg ? "SELECT seq, last_hash FROM read_head WHERE id = 1 FOR UPDATE"
                            : "SELECT seq, last_hash FROM read_head WHERE id = 1");
  if (!head.ok()) return head.status();
  if (head->empty()) return Status::Internal("read_head row missing");
  int64_t seq = head->rows[0].Int(0);
  std::string prev = head->rows[0].Text(1);
  constexpr size_t kMaxChunk = 128;
  for (size_t i = 0; i < rows.size();) {
    size_t chunk = std::min(kMaxChunk, rows.size() - i);
    std::string sql =
        "INSERT INTO read_log (id, at, actor_id, actor, entity, entity_id, region_code, prev_hash, hash) VALUES ";
    storage::Params params;
    params.reserve(chunk * 9);
    for (size_t k = 0; k < chunk; ++k, ++i) {
      const ReadRow& r = rows[i];
      sql += k ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
      ++seq;
      DOUDI_ASSIGN_OR_RETURN(std::string hash,
                             ReadHash(seq, r.at, r.actor_id, r.actor, r.entity, r.entity_id, r.region_code, prev));
      for (storage::Value v :
           storage::Params{seq, r.at, r.actor_id, r.actor, r.entity, r.entity_id, r.region_code, prev, hash})
        params.push_back(std::move(v));
      prev = std::move(hash);
    }
    auto ins = conn.Execute(sql, params);
    if (!ins.ok()) return ins.status();
  }
  auto upd = conn.Execute("UPDATE read_head SET seq = ?, last_hash = ? WHERE id = 1", {seq, prev});
  return upd.ok() ? Status::Ok() : upd.status();
}
}  // namespace

Status RecordRead(storage::Connection& conn, const Actor& actor, std::string_view entity,
                  std::string_view entity_id, std::string_view region_code) {
  std::vector<ReadRow> row{ReadRow{NowIsoShanghai(), actor.id, actor.username, std::string(entity),
                                   std::string(entity_id), std::string(region_code)}};
  if (conn.InTransaction()) return AppendReads(conn, row);
  // Outside a transaction: one of its own (the head is read, then moved).
  storage::Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(AppendReads(conn, row));
  return tx.Commit();
}

bool CommitReceipt::Pending() const {
  std::lock_guard<std::mutex> g(mu_);
  return pending_ > 0;
}

void CommitReceipt::Then(std::function<void(Status)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_ > 0) {
    done_ = std::move(done);
    return;
  }
  Status st = status_;
  lock.unlock();
  done(st);
}

std::optional<Status> CommitReceipt::Settled() const {
  std::lock_guard<std::mutex> g(mu_);
  if (pending_ > 0) return std::nullopt;
  return status_;
}

void CommitReceipt::Add() {
  std::lock_guard<std::mutex> g(mu_);
  ++pending_;
}

void CommitReceipt::Complete(const Status& status) {
  std::function<void(Status)> done;
  Status st;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (status_.ok() && !status.ok()) status_ = status;
    if (--pending_ > 0 || !done_) return;
    done.swap(done_);
    st = status_;
  }
  done(st);
}

namespace {
thread_local std::shared_ptr<CommitReceipt> deferral;
}  // namespace

DeferCommits::DeferCommits(std::shared_ptr<CommitReceipt> receipt) : previous_(std::move(deferral)) {
  deferral = std::move(receipt);
}
DeferCommits::~DeferCommits() { deferral = std::move(previous_); }

// Queues an item for a writer thread: inside a DeferCommits scope pending on the scope's
// receipt (returns at once), otherwise waiting until the writer has filled the item's slot.
struct Enqueue {
  template <class Item, class Slot>
  static Status Run(std::mutex& mu, std::condition_variable& work_cv, std::condition_variable& done_cv,
                    std::vector<Item>& queue, Item item) {
    item.receipt = deferral;
    Slot slot;
    if (!item.receipt) item.slot = &slot;
    const bool wait = !item.receipt;
    {
      std::lock_guard<std::mutex> g(mu);
      CommitReceipt* receipt = item.receipt.get();  // kept alive by the queued item
      queue.push_back(std::move(item));
      // Counted once queued (a push_back that throws leaves nothing pending for ever); under
      // the queue's lock, so the writer cannot complete it first.
      if (receipt) receipt->Add();
    }
    work_cv.notify_one();
    if (!wait) return Status::Ok();
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&slot] { return slot.done; });
    return slot.status;
  }
};

ReadLog::ReadLog(storage::Database& db) : db_(db), writer_([this] { Run(); }) {}

ReadLog::~ReadLog() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  writer_.join();
}

Status ReadLog::Record(const Actor& actor, std::string_view entity, std::string_view entity_id,
                       std::string_view region_code) {
  return Enqueue::Run<Item, Slot>(mu_, work_cv_, done_cv_, queue_,
                                  Item{NowIsoShanghai(), actor.id, actor.username, std::string(entity),
                                       std::string(entity_id), std::string(region_code), nullptr, nullptr});
}

void ReadLog::Run() {
  pthread_setname_np(pthread_self(), "doudi-readlog");  // as `top -H` shows it
  std::vector<Item> batch;
  // On PostgreSQL each commit flushes the WAL (an fsync, and in a virtual machine a costly
  // exit to the host): batches start at most once per kPostgresCommitSpacing, so under load
  // they are larger and fewer. SQLite's commits are cheap and hold the write lock: at once.
  const auto spacing = db_.dialect() == storage::Dialect::kPostgres ? kPostgresCommitSpacing
                                                                    : std::chrono::microseconds{0};
  std::chrono::steady_clock::time_point last{};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (spacing.count() > 0) work_cv_.wait_until(lock, last + spacing, [this] { return stop_; });
      batch.swap(queue_);
    }
    last = std::chrono::steady_clock::now();
    Status st = Write(batch);
    bool blocked = false;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto& item : batch) {
        if (!item.slot) continue;
        item.slot->status = st;
        item.slot->done = true;
        blocked = true;
      }
    }
    if (blocked) done_cv_.notify_all();
    for (auto& item : batch)
      if (item.receipt) item.receipt->Complete(st);
    batch.clear();
  }
}

Status ReadLog::Write(const std::vector<Item>& batch) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  // One write transaction per batch: the read log is a chain (its head row is locked until the
  // commit on PostgreSQL; on SQLite the batch queues on the process's write lock, where a lone
  // INSERT would meet a busy database and sleep in SQLite's busy handler).
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::vector<ReadRow> rows;
  rows.reserve(batch.size());
  for (const Item& it : batch) rows.push_back({it.at, it.actor_id, it.actor, it.entity, it.entity_id, it.region_code});
  DOUDI_RETURN_IF_ERROR(AppendReads(*conn, rows));
  return tx.Commit();
}

WriteQueue::WriteQueue(storage::Database& db) : db_(db) {
  if (db_.dialect() == storage::Dialect::kPostgres) writer_ = std::thread([this] { Run(); });
}

WriteQueue::~WriteQueue() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  writer_.join();
}

Status WriteQueue::Submit(storage::Connection& conn, storage::Transaction& tx, std::string write,
                          storage::Params params, const Actor& actor, const Entry& entry, RowLock lock, Done done) {
  if (conn.dialect() == storage::Dialect::kSqlite) {
    Outcome o;
    auto n = RecordGuardedWrite(conn, write, params, actor, entry, &tx, &o.feed_rev);
    if (n.ok()) o.rows = *n;
    else o.status = n.status();
    return done(o);
  }
  if (!CurrentKeys()) return done(Outcome{Status::Internal("audit chain key not loaded (--audit-dir)")});
  auto crypto = PgCrypto(conn);
  if (!crypto.ok()) return done(Outcome{crypto.status()});
  return Enqueue::Run<Item, Slot>(mu_, work_cv_, done_cv_, queue_,
                                  Item{PgEntry(&write, &params, actor, entry, true, *crypto),
                                       {std::move(lock.sql), std::move(lock.params)}, lock.key, std::move(done),
                                       nullptr, nullptr});
}

void WriteQueue::Run() {
  pthread_setname_np(pthread_self(), "doudi-writes");  // as `top -H` shows it
  std::vector<Item> batch;
  for (;;) {
    {
      // No spacing between batches (unlike the read log's): a write's requester waits for
      // its commit, and the writes queued during a commit are the next batch.
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    Write(batch);
    batch.clear();
  }
}

void WriteQueue::Write(std::vector<Item>& batch) {
  std::vector<Outcome> out;
  try {
    out = Commit(batch);
  } catch (const std::exception& e) {  // nothing may escape the writer thread, nor leave a request waiting
    conn_.reset();
    out.assign(batch.size(), Outcome{Status::Internal(std::string("write queue: ") + e.what())});
  }
  bool blocked = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    Status request;
    try {
      request = batch[i].done(out[i]);
    } catch (const std::exception& e) {
      request = Status::Internal(std::string("write queue: ") + e.what());
    }
    if (batch[i].receipt) {
      batch[i].receipt->Complete(request);
    } else {
      std::lock_guard<std::mutex> g(mu_);
      batch[i].slot->status = request;
      batch[i].slot->done = true;
      blocked = true;
    }
  }
  if (blocked) done_cv_.notify_all();
}

// One transaction: the writes' row locks in key order, then the writes. A failed statement
// rolls it all back; then each write is tried alone (its lock, then it), so only the failing
// one fails. When the batch's outcome is unknown (BEGIN, COMMIT or the connection failed)
// nothing is retried: every write reports the error.
std::vector<WriteQueue::Outcome> WriteQueue::Commit(std::vector<Item>& batch) {
  std::stable_sort(batch.begin(), batch.end(), [](const Item& a, const Item& b) { return a.lock_key < b.lock_key; });
  std::vector<Outcome> out(batch.size());
  if (!conn_) {
    auto c = db_.OpenDedicated();
    if (!c.ok()) {
      for (auto& o : out) o.status = c.status();
      return out;
    }
    conn_ = std::move(c).value();
  }
  std::vector<storage::Statement> statements;
  statements.reserve(2 * batch.size());
  for (const auto& item : batch)
    if (!item.lock.sql.empty()) statements.push_back(item.lock);
  const size_t locks = statements.size();
  for (const auto& item : batch) statements.push_back(item.statement);
  std::vector<storage::ResultSet> results;
  size_t failed = 0;
  auto take = [&](size_t i, const storage::ResultSet& rs) {
    out[i].rows = static_cast<int64_t>(rs.rows.size());
    out[i].feed_rev = rs.empty() ? 0 : rs.rows[0].Int(1);
  };
  Status st = conn_->ExecuteBatchThenCommit(statements, &results, &failed);
  if (st.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) take(i, results[locks + i]);
    return out;
  }
  if (batch.size() == 1 || failed >= statements.size()) {
    for (auto& o : out) o.status = st;
    conn_.reset();
    return out;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    std::vector<storage::Statement> one;
    if (!batch[i].lock.sql.empty()) one.push_back(batch[i].lock);
    one.push_back(batch[i].statement);
    out[i].status = conn_->ExecuteBatchThenCommit(one, &results, &failed);
    if (out[i].status.ok()) take(i, results.back());
  }
  conn_.reset();  // after a failure: a fresh connection for the next batch
  return out;
}

namespace {
const std::string kZeroHash(64, '0');

// The audit chain: each entry's link and keyed hash, then the head.
Status VerifyEntries(storage::Connection& conn, VerifyReport& rep) {
  std::string prev = kZeroHash;
  int64_t expected = 1;
  const int64_t kBatch = 5000;
  for (;;) {
    auto rs = conn.Query(
        "SELECT id, at, actor_id, actor, action, entity, entity_id, region_code, before_json, "
        "after_json, prev_hash, hash FROM audit_log WHERE id >= ? ORDER BY id LIMIT ?",
        {expected, kBatch});
    if (!rs.ok()) return rs.status();
    for (const auto& r : rs->rows) {
      int64_t id = r.Int(0);
      if (id != expected) {
        rep.ok = false;
        rep.first_broken_id = expected;
        rep.problem = "entry " + std::to_string(expected) + " is missing (deleted)";
        return Status::Ok();
      }
      Entry e{r.Text(4), r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
      if (r.Text(10) != prev) {
        rep.ok = false;
        rep.first_broken_id = id;
        rep.problem = "entry " + std::to_string(id) + " does not link to the previous entry";
        return Status::Ok();
      }
      DOUDI_ASSIGN_OR_RETURN(std::string h, EntryHash(id, HashedMiddle(r.Text(1), r.Int(2), r.Text(3), e), prev));
      if (h != r.Text(11)) {
        rep.ok = false;
        rep.first_broken_id = id;
        rep.problem = "entry " + std::to_string(id) + " was modified (keyed hash mismatch)";
        return Status::Ok();
      }
      prev = h;
      ++expected;
      ++rep.entries;
    }
    if (static_cast<int64_t>(rs->rows.size()) < kBatch) break;
  }
  auto head = conn.Query("SELECT seq, last_hash FROM audit_head WHERE id = 1");
  if (!head.ok()) return head.status();
  if (head->empty() || head->rows[0].Int(0) != rep.entries || head->rows[0].Text(1) != prev) {
    rep.ok = false;
    rep.first_broken_id = rep.entries + 1;
    rep.problem = "entries after " + std::to_string(rep.entries) + " are missing (chain head is " +
                  (head->empty() ? std::string("absent") : head->rows[0].Text(0)) + ")";
  }
  return Status::Ok();
}

// The read log's chain: links and keyed hashes in id order (ids may have gaps from before
// migration 13: a deleted row shows as the next row's broken link), then the head.
Status VerifyReads(storage::Connection& conn, VerifyReport& rep) {
  std::string prev = kZeroHash;
  int64_t after = 0, last = 0;
  const int64_t kBatch = 5000;
  auto broken = [&rep](int64_t id, std::string problem) {
    rep.ok = false;
    rep.first_broken_read_id = id;
    if (rep.problem.empty()) rep.problem = std::move(problem);
  };
  for (;;) {
    auto rs = conn.Query(
        "SELECT id, at, actor_id, actor, entity, entity_id, region_code, prev_hash, hash FROM read_log "
        "WHERE id > ? ORDER BY id LIMIT ?",
        {after, kBatch});
    if (!rs.ok()) return rs.status();
    for (const auto& r : rs->rows) {
      int64_t id = r.Int(0);
      if (r.Text(7) != prev) {
        broken(id, "read-log row " + std::to_string(id) + " does not link to the previous row");
        return Status::Ok();
      }
      DOUDI_ASSIGN_OR_RETURN(std::string h, ReadHash(id, r.Text(1), r.Int(2), r.Text(3), r.Text(4), r.Text(5),
                                                     r.Text(6), prev));
      if (h != r.Text(8)) {
        broken(id, "read-log row " + std::to_string(id) + " was modified (keyed hash mismatch)");
        return Status::Ok();
      }
      prev = h;
      after = last = id;
      ++rep.reads;
    }
    if (static_cast<int64_t>(rs->rows.size()) < kBatch) break;
  }
  auto head = conn.Query("SELECT seq, last_hash FROM read_head WHERE id = 1");
  if (!head.ok()) return head.status();
  if (head->empty() || head->rows[0].Int(0) != last || head->rows[0].Text(1) != prev)
    broken(last + 1, "read-log rows after " + std::to_string(last) + " are missing (head is " +
                         (head->empty() ? std::string("absent") : head->rows[0].Text(0)) + ")");
  return Status::Ok();
}

// Each anchor's signature, and the hash of the row it names.
Status VerifyAnchors(storage::Connection& conn, VerifyReport& rep) {
  DOUDI_ASSIGN_OR_RETURN(auto anchors, ReadAnchors());
  for (const auto& a : anchors) {
    ++rep.anchors;
    auto fail = [&rep](std::string problem) {
      rep.ok = false;
      if (rep.problem.empty()) rep.problem = std::move(problem);
    };
    if (!a.signature_ok) {
      fail("anchor " + a.file + " has no valid signature");
      if (rep.first_broken_id == 0) rep.first_broken_id = a.audit_id;
      continue;
    }
    struct Side {
      const char* table;
      int64_t id;
      const std::string& hash;
      int64_t* broken;
      const char* what;
    };
    for (const Side& side : {Side{"audit_log", a.audit_id, a.audit_hash, &rep.first_broken_id, "entry"},
                             Side{"read_log", a.read_id, a.read_hash, &rep.first_broken_read_id, "read-log row"}}) {
      if (side.id == 0) continue;
      auto rs = conn.Query(std::string("SELECT hash FROM ") + side.table + " WHERE id = ?", {side.id});
      if (!rs.ok()) return rs.status();
      if (rs->empty() || rs->rows[0].Text(0) != side.hash) {
        if (*side.broken == 0 || side.id < *side.broken) *side.broken = side.id;
        fail(std::string(side.what) + " " + std::to_string(side.id) + (rs->empty() ? " is missing" : " differs") +
             " from anchor " + a.file + " (" + a.at + "): the log was rewritten at or before it");
      }
    }
  }
  return Status::Ok();
}
}  // namespace

Result<VerifyReport> Verify(storage::Connection& conn) {
  if (!CurrentKeys()) return Status::Internal("audit chain key not loaded (--audit-dir)");
  VerifyReport rep;
  DOUDI_RETURN_IF_ERROR(VerifyEntries(conn, rep));
  DOUDI_RETURN_IF_ERROR(VerifyReads(conn, rep));
  DOUDI_RETURN_IF_ERROR(VerifyAnchors(conn, rep));
  return rep;
}

Status CheckKeyMatchesChain(storage::Connection& conn) {
  if (!CurrentKeys()) return Status::Internal("audit chain key not loaded (--audit-dir)");
  auto sealed = conn.Query("SELECT sealed FROM audit_head WHERE id = 1");
  if (!sealed.ok()) return sealed.status();
  if (sealed->empty() || sealed->rows[0].Int(0) != 1)
    return Status::FailedPrecondition("审计链尚未使用密钥重新计算，请先运行 doudi migrate");
  auto rs = conn.Query(
      "SELECT id, at, actor_id, actor, action, entity, entity_id, region_code, before_json, after_json, prev_hash, "
      "hash FROM audit_log ORDER BY id DESC LIMIT 1");
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::Ok();
  const auto& r = rs->rows[0];
  Entry e{r.Text(4), r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
  DOUDI_ASSIGN_OR_RETURN(std::string h, EntryHash(r.Int(0), HashedMiddle(r.Text(1), r.Int(2), r.Text(3), e), r.Text(10)));
  if (h != r.Text(11))
    return Status::FailedPrecondition("审计密钥与数据库中的审计链不符（密钥目录是否正确？可用 doudi audit verify 检查）");
  return Status::Ok();
}

Result<SealReport> SealChain(storage::Connection& conn) {
  if (!CurrentKeys()) return Status::Internal("audit chain key not loaded (--audit-dir)");
  SealReport out;
  storage::Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto sealed = conn.Query("SELECT sealed FROM audit_head WHERE id = 1");
  if (!sealed.ok()) return sealed.status();
  if (sealed->empty()) return Status::Internal("audit_head row missing");
  if (sealed->rows[0].Int(0) == 1) return out;
  // The plain chain must be intact: re-keying a broken one would hide what broke it.
  auto rs = conn.Query(
      "SELECT id, at, actor_id, actor, action, entity, entity_id, region_code, before_json, after_json, prev_hash, "
      "hash FROM audit_log ORDER BY id");
  if (!rs.ok()) return rs.status();
  std::string plain_prev = kZeroHash, keyed_prev = kZeroHash, keyed_before = kZeroHash;
  int64_t expected = 1;
  for (const auto& r : rs->rows) {
    int64_t id = r.Int(0);
    Entry e{r.Text(4), r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
    std::string middle = HashedMiddle(r.Text(1), r.Int(2), r.Text(3), e);
    if (id != expected || r.Text(10) != plain_prev || PlainEntryHash(id, middle, plain_prev) != r.Text(11))
      return Status::FailedPrecondition("审计链第 " + std::to_string(expected) +
                                        " 条已损坏，不能改用密钥计算；请先查明原因（doudi audit verify）");
    plain_prev = r.Text(11);
    DOUDI_ASSIGN_OR_RETURN(std::string h, EntryHash(id, middle, keyed_prev));
    auto upd = conn.Execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", {keyed_prev, h, id});
    if (!upd.ok()) return upd.status();
    keyed_before = keyed_prev;
    keyed_prev = h;
    ++expected;
    ++out.entries;
  }
  auto head = conn.Query("SELECT seq, last_hash FROM audit_head WHERE id = 1");
  if (!head.ok()) return head.status();
  if (head->rows[0].Int(0) != out.entries || head->rows[0].Text(1) != plain_prev)
    return Status::FailedPrecondition("审计链末尾的记录缺失，不能改用密钥计算；请先查明原因（doudi audit verify）");
  auto upd = conn.Execute("UPDATE audit_head SET prev_hash = ?, last_hash = ? WHERE id = 1",
                          {out.entries > 0 ? keyed_before : std::string(), keyed_prev});
  if (!upd.ok()) return upd.status();
  // The read log was not chained: its rows are chained as they stand, in id order.
  auto reads = conn.Query(
      "SELECT id, at, actor_id, actor, entity, entity_id, region_code FROM read_log ORDER BY id");
  if (!reads.ok()) return reads.status();
  std::string prev = kZeroHash;
  int64_t last = 0;
  for (const auto& r : reads->rows) {
    int64_t id = r.Int(0);
    DOUDI_ASSIGN_OR_RETURN(std::string h,
                           ReadHash(id, r.Text(1), r.Int(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), prev));
    auto u = conn.Execute("UPDATE read_log SET prev_hash = ?, hash = ? WHERE id = ?", {prev, h, id});
    if (!u.ok()) return u.status();
    prev = h;
    last = id;
    ++out.reads;
  }
  upd = conn.Execute("UPDATE read_head SET seq = ?, last_hash = ? WHERE id = 1", {last, prev});
  if (!upd.ok()) return upd.status();
  upd = conn.Execute("UPDATE audit_head SET sealed = 1 WHERE id = 1");
  if (!upd.ok()) return upd.status();
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  out.rekeyed = true;
  return out;
}

Result<std::vector<ListedEntry>> ListEntries(storage::Connection& conn, const ListFilter& f, int64_t* total) {
  std::string where = " WHERE region_code LIKE ?";
  storage::Params params{f.scope + "%"};
  if (!f.entity.empty()) {
    where += " AND entity = ?";
    params.push_back(f.entity);
  }
  if (!f.actor.empty()) {
    where += " AND actor = ?";
    params.push_back(f.actor);
  }
  auto count = conn.Query("SELECT COUNT(*) FROM audit_log" + where, params);
  if (!count.ok()) return count.status();
  *total = count->rows[0].Int(0);
  params.push_back(f.page_size);
  params.push_back((f.page - 1) * f.page_size);
  auto rs = conn.Query(
      "SELECT id, at, actor, action, entity, entity_id, region_code, before_json, after_json, hash FROM audit_log" +
          where + " ORDER BY id DESC LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  std::vector<ListedEntry> out;
  for (const auto& r : rs->rows)
    out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7), r.Text(8),
                   r.Text(9)});
  return out;
}

Result<std::vector<ListedRead>> ListReads(storage::Connection& conn, const ListFilter& f, int64_t* total) {
  std::string like = f.scope + "%";
  auto count = conn.Query("SELECT COUNT(*) FROM read_log WHERE region_code LIKE ?", {like});
  if (!count.ok()) return count.status();
  *total = count->rows[0].Int(0);
  auto rs = conn.Query(
      "SELECT id, at, actor, entity, entity_id, region_code FROM read_log WHERE region_code LIKE ? "
      "ORDER BY id DESC LIMIT ? OFFSET ?",
      {like, f.page_size, (f.page - 1) * f.page_size});
  if (!rs.ok()) return rs.status();
  std::vector<ListedRead> out;
  for (const auto& r : rs->rows) out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5)});
  return out;
}

}  // namespace doudi::audit

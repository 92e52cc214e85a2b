#include "audit/audit_log.h"
#include "audit/chain_keys.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "storage/test_db.h"

namespace doudi::audit {
namespace {

// Keys of the test process (every test of the binary writes to the chain): fresh random ones,
// anchors in a directory of their own.
ChainKeys TestKeys(const std::string& anchor_dir) {
  ChainKeys k;
  crypto_auth_hmacsha256_keygen(k.hmac.data());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, k.hmac.data(), k.hmac.size());
  k.hmac_hex = hex;
  crypto_sign_keypair(k.sign_pk.data(), k.sign_sk.data());
  k.anchor_dir = anchor_dir;
  return k;
}
std::string FreshDir() {
  return (std::filesystem::temp_directory_path() / ("doudi-anchors-" + storage::testing::UniqueName())).string();
}
const bool kTestKeysLoaded = [] {
  if (sodium_init() < 0) return false;
  UseKeys(TestKeys(FreshDir()));
  return true;
}();

class AuditTest : public storage::testing::MigratedDbTest {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    MigratedDbTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 1; i <= 4; ++i) {
      storage::Transaction tx(conn(), true);
      ASSERT_TRUE(RecordWrite(conn(), {7, "clerk"},
                              {"household.update", "household", std::to_string(i), "370725107202",
                               R"({"area":"rural"})", R"({"area":"urban"})"})
                      .ok());
      ASSERT_TRUE(tx.Commit().ok());
    }
  }
  // Tampering as someone with the database's own rights: the append-only triggers let rows be
  // changed only while the chain is unsealed.
  void Tamper(const std::string& sql) {
    ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 0 WHERE id = 1").ok());
    auto r = conn().Execute(sql);
    ASSERT_TRUE(r.ok()) << r.status().detail();
    ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 1 WHERE id = 1").ok());
  }
  VerifyReport Check() {
    auto r = Verify(conn());
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : VerifyReport{};
  }
  // Tampers with `sql`, then expects verification to fail at entry `id`.
  void ExpectBrokenAt(const std::string& sql, int64_t id) {
    Tamper(sql);
    auto rep = Check();
    EXPECT_FALSE(rep.ok);
    EXPECT_EQ(rep.first_broken_id, id);
  }
  // An attacker's edit of entry 2 with the chain recomputed after it (Recompute, below).
  void ForgeEntryTwoAndRecompute(bool keyed);
  // Anchors to a fresh directory; returns the keys to restore at the end.
  ChainKeys UseFreshAnchorDir() {
    const ChainKeys saved = *CurrentKeys();
    ChainKeys k = saved;
    k.anchor_dir = FreshDir();
    UseKeys(k);
    return saved;
  }
};

TEST_P(AuditTest, IntactChainVerifies) {
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
}

TEST_P(AuditTest, EditedRowIsNamed) { ExpectBrokenAt("UPDATE audit_log SET after_json = '{\"area\":\"rural\"}' WHERE id = 3", 3); }

TEST_P(AuditTest, EditedRowAndItsHashIsNamed) { ExpectBrokenAt("UPDATE audit_log SET actor = 'someone', hash = 'ff' WHERE id = 2", 2); }

TEST_P(AuditTest, DeletedRowIsNamed) { ExpectBrokenAt("DELETE FROM audit_log WHERE id = 2", 2); }

TEST_P(AuditTest, TruncatedTailIsDetected) { ExpectBrokenAt("DELETE FROM audit_log WHERE id = 4", 4); }

TEST_P(AuditTest, RolledBackWriteLeavesChainIntact) {
  {
    storage::Transaction tx(conn(), true);
    ASSERT_TRUE(RecordWrite(conn(), {7, "clerk"}, {"x", "household", "9", "370725", "null", "null"}).ok());
  }  // rolled back
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
}

// A write with its entry (one statement on PostgreSQL, whose database computes the hash over
// non-ASCII text too): the entry is chained only when the write returned a row; with a
// transaction it commits either way; a failed write leaves nothing behind.
TEST_P(AuditTest, GuardedWriteChainsItsEntryOnlyWhenTheWriteHappened) {
  ASSERT_TRUE(conn().ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY, v TEXT NOT NULL, version INTEGER)").ok());
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, v, version) VALUES (1, '旧', 1)").ok());
  const std::string update = "UPDATE things SET v = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING id";
  const Entry entry{"household.update", "household", "1", "370725107202", R"({"地址":"旧"})", R"({"地址":"新址"})"};
  {
    storage::Transaction tx(conn(), true);
    auto n = RecordGuardedWrite(conn(), update, {std::string("新址"), int64_t{1}, int64_t{1}}, {7, "张三"}, entry, &tx);
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, 1);
  }
  {
    storage::Transaction tx(conn(), true);  // a stale version: no row, no entry, still commits
    auto n = RecordGuardedWrite(conn(), update, {std::string("再改"), int64_t{1}, int64_t{1}}, {7, "张三"}, entry, &tx);
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, 0);
  }
  {
    storage::Transaction tx(conn(), true);  // no transaction passed: committed by the caller
    auto n = RecordGuardedWrite(conn(), update, {std::string("第三"), int64_t{1}, int64_t{2}}, {7, "张三"}, entry);
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, 1);
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    storage::Transaction tx(conn(), true);  // the write fails: rolled back, nothing chained
    auto n = RecordGuardedWrite(conn(), "UPDATE things SET v = NULL WHERE id = ? RETURNING id", {int64_t{1}},
                                {7, "张三"}, entry, &tx);
    EXPECT_FALSE(n.ok());
  }
  auto v = conn().Query("SELECT v, version FROM things WHERE id = 1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->rows[0].Text(0), "第三");
  EXPECT_EQ(v->rows[0].Int(1), 3);
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 6);  // the four of SetUp and the two writes that happened
  Tamper("UPDATE audit_log SET actor = '李四' WHERE id = 5");
  EXPECT_EQ(Check().first_broken_id, 5);
}

// Inside a DeferCommits scope Record() does not wait; the receipt's callback runs once the row
// is committed (visible to another connection), or with the error when it could not be.
TEST_P(AuditTest, DeferredReadIsCommittedBeforeItsReceiptFires) {
  ReadLog log(*db_);
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    ASSERT_TRUE(log.Record({7, "clerk"}, "household", "42", "370725107202").ok());
    ASSERT_TRUE(log.Record({7, "clerk"}, "household", "43", "370725107202").ok());
  }
  std::promise<std::pair<Status, int64_t>> fired;
  receipt->Then([&](Status st) {
    auto other = db_->Acquire();
    int64_t rows = -1;
    if (other.ok()) {
      auto rs = (*other)->Query("SELECT COUNT(*) FROM read_log WHERE entity_id IN ('42', '43')");
      if (rs.ok()) rows = rs->rows[0].Int(0);
    }
    fired.set_value({st, rows});
  });
  auto [status, rows] = fired.get_future().get();
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(rows, 2);
  EXPECT_FALSE(receipt->Pending());
  // Outside a scope Record() blocks until committed.
  ASSERT_TRUE(log.Record({7, "clerk"}, "household", "44", "370725107202").ok());
  auto rs = conn().Query("SELECT COUNT(*) FROM read_log WHERE entity_id = '44'");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), 1);
}

TEST_P(AuditTest, DeferredReadThatCannotBeCommittedReportsTheError) {
  ASSERT_TRUE(conn().Execute("DROP TABLE read_log").ok());
  ReadLog log(*db_);
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    ASSERT_TRUE(log.Record({7, "clerk"}, "household", "42", "370725107202").ok());
  }
  std::promise<Status> fired;
  receipt->Then([&](Status st) { fired.set_value(st); });
  EXPECT_FALSE(fired.get_future().get().ok());
  EXPECT_FALSE(log.Record({7, "clerk"}, "household", "43", "370725107202").ok());
}

// The writer may finish before the requester looks at its receipt (the server checks it after
// the handler returns): a receipt no longer pending still carries the error, which the server
// must answer instead of the handler's provisional response.
TEST_P(AuditTest, AReceiptSettledBeforeItIsAskedKeepsItsError) {
  ASSERT_TRUE(conn().Execute("DROP TABLE read_log").ok());
  ReadLog log(*db_);
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    ASSERT_TRUE(log.Record({7, "clerk"}, "household", "42", "370725107202").ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (receipt->Pending() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto settled = receipt->Settled();
  ASSERT_TRUE(settled.has_value()) << "the writer did not finish";
  EXPECT_FALSE(settled->ok());
  CommitReceipt idle;
  ASSERT_TRUE(idle.Settled().has_value());  // nothing queued: settled, ok
  EXPECT_TRUE(idle.Settled()->ok());
}

// Group commit (WriteQueue): each write gets its own outcome whether it shares a batch or
// not. On PostgreSQL the chain head is held by another transaction while the writes queue, so
// they meet in batches; the one that fails (a NOT NULL violation) fails alone, the stale one
// writes nothing, the others commit with their entries and the chain stays intact. On SQLite
// each Submit writes at once in the caller's transaction; the outcomes are the same.
TEST_P(AuditTest, QueuedWritesEachGetTheirOwnOutcome) {
  ASSERT_TRUE(conn().ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY, v TEXT NOT NULL, version INTEGER)").ok());
  for (int i = 1; i <= 3; ++i) Exec("INSERT INTO things (id, v, version) VALUES (?, '旧', 1)", {int64_t{i}});
  const bool pg = conn().dialect() == storage::Dialect::kPostgres;
  WriteQueue queue(*db_);
  const std::string update = "UPDATE things SET v = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING id";
  std::mutex mu;
  std::vector<WriteQueue::Outcome> outcomes(5);
  std::vector<Status> answered(5);
  auto submit = [&](int k, storage::Value v, int64_t id, int64_t version) {
    storage::Transaction tx(conn(), true);
    const Entry entry{"thing.update", "thing", std::to_string(id), "370725107202", "{}", R"({"v":"新"})"};
    return queue.Submit(conn(), tx, update, {std::move(v), id, version}, {7, "张三"}, entry,
                        {"SELECT id FROM things WHERE id = ? FOR UPDATE", {id}, id},
                        [&, k](const WriteQueue::Outcome& o) {
                          std::lock_guard<std::mutex> g(mu);
                          outcomes[k] = o;
                          answered[k] = !o.status.ok() ? o.status : o.rows ? Status::Ok() : Status::VersionConflict();
                          return answered[k];
                        });
  };
  // Outside a DeferCommits scope Submit blocks and returns what `done` returned.
  ASSERT_TRUE(submit(0, std::string("新"), 1, 1).ok());
  EXPECT_EQ(outcomes[0].rows, 1);
  std::optional<storage::Lease> holder;
  if (pg) {
    auto lease = db_->Acquire();
    ASSERT_TRUE(lease.ok());
    holder.emplace(std::move(lease).value());
    ASSERT_TRUE((*holder)->ExecScript("BEGIN; SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").ok());
  }
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    submit(1, std::string("新"), 2, 1);
    submit(2, nullptr, 3, 1);             // v NULL: the statement fails
    submit(3, std::string("新"), 3, 1);
    submit(4, std::string("新"), 1, 1);   // stale: thing 1 is at version 2
  }
  if (holder) {
    ASSERT_TRUE((*holder)->ExecScript("ROLLBACK").ok());
  }
  std::promise<Status> fired;
  receipt->Then([&](Status st) { fired.set_value(st); });
  Status first_error = fired.get_future().get();
  EXPECT_EQ(first_error.ok(), !pg);  // on SQLite nothing was pending
  std::lock_guard<std::mutex> g(mu);
  EXPECT_TRUE(answered[1].ok()) << answered[1].detail();
  EXPECT_FALSE(outcomes[2].status.ok());
  EXPECT_TRUE(answered[3].ok()) << answered[3].detail();
  EXPECT_TRUE(outcomes[4].status.ok());
  EXPECT_EQ(outcomes[4].rows, 0);
  EXPECT_EQ(answered[4].code(), Code::kConflict);
  auto rows = conn().Query("SELECT id, v, version FROM things ORDER BY id");
  ASSERT_TRUE(rows.ok());
  for (const auto& r : rows->rows) {
    EXPECT_EQ(r.Text(1), "新") << r.Int(0);
    EXPECT_EQ(r.Int(2), 2) << r.Int(0);
  }
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4 + 3);
}

// Writes of `things` rows through a WriteQueue, each one's answer kept (by submission).
struct QueuedThingWrites {
  WriteQueue queue;
  std::mutex mu;
  std::vector<std::optional<Status>> answered;
  QueuedThingWrites(storage::Database& db, size_t n) : queue(db), answered(n) {}
  Status Submit(storage::Connection& conn, int k, int64_t id) {
    storage::Transaction tx(conn, true);
    const Entry entry{"thing.update", "thing", std::to_string(id), "370725107202", "{}", R"({"v":"新"})"};
    return queue.Submit(conn, tx, "UPDATE things SET v = ?, version = version + 1 WHERE id = ? RETURNING id",
                        {std::string("新"), id}, {7, "张三"}, entry,
                        {"SELECT id FROM things WHERE id = ? FOR UPDATE", {id}, id},
                        [this, k](const WriteQueue::Outcome& o) {
                          std::lock_guard<std::mutex> g(mu);
                          answered[k] = o.status;
                          return o.status;
                        });
  }
  std::optional<Status> Answer(int k) {
    std::lock_guard<std::mutex> g(mu);
    return answered[k];
  }
};

// Until a session of this database waits for a lock (at most 10 s).
void AwaitLockWait(storage::Connection& conn) {
  for (int i = 0; i < 1000; ++i) {
    auto waiting = conn.Query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    if (!waiting.ok() || waiting->rows[0].Int(0) > 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Lock order (PostgreSQL): a batch takes its writes' row locks before the chain head. Here a
// batch of two writes meets a row that another transaction holds: the batch must wait for
// it without holding the head, or that transaction, asking for the head next (as any guarded
// write does), would deadlock with it.
TEST_P(AuditTest, BatchWaitsForRowsWithoutHoldingTheHead) {
  if (conn().dialect() != storage::Dialect::kPostgres) {
    GTEST_SKIP() << "SQLite locks the whole database";
  }
  ASSERT_TRUE(conn().ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY, v TEXT NOT NULL, version INTEGER)").ok());
  for (int i = 1; i <= 3; ++i) Exec("INSERT INTO things (id, v, version) VALUES (?, '旧', 1)", {int64_t{i}});
  QueuedThingWrites writes(*db_, 3);
  auto submit = [&](int k, int64_t id) { return writes.Submit(conn(), k, id); };
  auto lease = [&] {
    auto l = db_->Acquire();
    EXPECT_TRUE(l.ok());
    return std::move(l).value();
  };
  storage::Lease head_holder = lease(), row_holder = lease();
  struct Release {  // whatever fails below, the writer is not left waiting for these
    storage::Lease& a;
    storage::Lease& b;
    ~Release() {
      a->ExecScript("ROLLBACK");
      b->ExecScript("ROLLBACK");
    }
  } release{head_holder, row_holder};

  // The first write waits for the head; the next two queue meanwhile and become one batch.
  ASSERT_TRUE(head_holder->ExecScript("BEGIN; SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").ok());
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    submit(0, 3);
  }
  AwaitLockWait(*row_holder);
  {
    DeferCommits defer(receipt);
    submit(1, 1);
    submit(2, 2);
  }
  ASSERT_TRUE(row_holder->ExecScript("BEGIN; UPDATE things SET v = '别人' WHERE id = 2").ok());
  ASSERT_TRUE(head_holder->ExecScript("ROLLBACK").ok());
  // Once the first batch is done, the second one waits for thing 2's row.
  for (int i = 0; i < 1000 && !writes.Answer(0).has_value(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  AwaitLockWait(*row_holder);
  auto first = writes.Answer(0);
  ASSERT_TRUE(first.has_value() && first->ok());
  EXPECT_FALSE(writes.Answer(1).has_value());  // thing 1 is in the waiting batch
  // The head is free while the batch waits: the row's holder can write its audit entry.
  auto head = head_holder->Query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT");
  EXPECT_TRUE(head.ok()) << head.status().detail();
  ASSERT_TRUE(row_holder->ExecScript("COMMIT").ok());
  std::promise<Status> fired;
  receipt->Then([&](Status st) { fired.set_value(st); });
  EXPECT_TRUE(fired.get_future().get().ok());
  auto rows = conn().Query("SELECT count(*) FROM things WHERE v = '新' AND version = 2");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0].Int(0), 3);
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
}

// Rewrites entries from `from` on as an attacker would after editing one: each hash
// recomputed (with plain SHA-256, or with the chain's key when `keyed`), and the head moved.
void Recompute(storage::Connection& conn, int64_t from, bool keyed) {
  auto rs = conn.Query(
      "SELECT id, at, actor_id, actor, action, entity, entity_id, region_code, before_json, after_json, prev_hash "
      "FROM audit_log WHERE id >= ? ORDER BY id",
      {from});
  ASSERT_TRUE(rs.ok());
  std::string prev = rs->rows[0].Text(10), before;
  const char sep = '\x1f';
  for (const auto& r : rs->rows) {
    std::string msg = std::to_string(r.Int(0)) + sep;
    for (int c = 1; c <= 9; ++c) msg += (c == 2 ? std::to_string(r.Int(2)) : r.Text(c)) + sep;
    msg += prev + sep;
    std::string h = keyed ? *KeyedHashHex(msg) : Sha256Hex(msg);
    ASSERT_TRUE(conn.Execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", {prev, h, r.Int(0)}).ok());
    before = prev;
    prev = h;
  }
  ASSERT_TRUE(conn.Execute("UPDATE audit_head SET prev_hash = ?, last_hash = ? WHERE id = 1", {before, prev}).ok());
}

// Issue 17 #13: with plain SHA-256 an edited entry whose chain was recomputed verified.
void AuditTest::ForgeEntryTwoAndRecompute(bool keyed) {
  Tamper("UPDATE audit_log SET after_json = '{\"area\":\"forged\"}' WHERE id = 2");
  ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 0 WHERE id = 1").ok());
  Recompute(conn(), 2, keyed);
  ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 1 WHERE id = 1").ok());
}

TEST_P(AuditTest, EditRecomputedWithPlainSha256FailsVerify) {
  ASSERT_NO_FATAL_FAILURE(ForgeEntryTwoAndRecompute(false));
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 2) << rep.problem;
}

// Even with the key, a rewrite of what an anchor covers is detected; after the anchor's row the
// key alone protects (the next anchor covers it).
TEST_P(AuditTest, EditRecomputedWithTheKeyFailsAgainstAnAnchor) {
  const ChainKeys saved = UseFreshAnchorDir();
  const std::string anchor_dir = CurrentKeys()->anchor_dir;
  auto path = WriteAnchor(conn());
  ASSERT_TRUE(path.ok()) << path.status().detail();
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.anchors, 1);
  ASSERT_NO_FATAL_FAILURE(ForgeEntryTwoAndRecompute(true));
  rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 4) << rep.problem;  // the anchored head no longer matches
  EXPECT_NE(rep.problem.find("anchor"), std::string::npos) << rep.problem;
  // Without the anchor the keyed rewrite would pass: the anchor is what caught it.
  std::filesystem::remove_all(anchor_dir);
  EXPECT_TRUE(Check().ok);
  UseKeys(saved);
}

TEST_P(AuditTest, ForgedAnchorIsRefused) {
  const ChainKeys saved = UseFreshAnchorDir();
  auto path = WriteAnchor(conn());
  ASSERT_TRUE(path.ok());
  {
    std::ifstream in(*path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find("audit 4 ");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 7, "audit 3");
    std::ofstream(*path) << text;
  }
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_NE(rep.problem.find("signature"), std::string::npos) << rep.problem;
  UseKeys(saved);
}

TEST_P(AuditTest, ReadLogIsChainedAndAnEditIsDetected) {
  for (int i = 1; i <= 3; ++i) {
    storage::Transaction tx(conn(), true);
    auto st_ = RecordRead(conn(), {7, "clerk"}, "person", std::to_string(i), "370725107202");
    ASSERT_TRUE(st_.ok()) << st_.detail();
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    ReadLog log(*db_);
    ASSERT_TRUE(log.Record({8, "auditor"}, "audit_log", "2", "370725").ok());
  }
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.reads, 4);
  Tamper("UPDATE read_log SET entity_id = '99' WHERE id = 2");
  rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_read_id, 2) << rep.problem;
  EXPECT_EQ(rep.first_broken_id, 0);
  Tamper("UPDATE read_log SET entity_id = '2' WHERE id = 2");
  EXPECT_TRUE(Check().ok);
  Tamper("DELETE FROM read_log WHERE id = 4");
  rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_read_id, 4) << rep.problem;
}

// Records are kept: once sealed, the database itself refuses to change or delete them.
TEST_P(AuditTest, AuditAndReadLogsAreAppendOnly) {
  {
    storage::Transaction tx(conn(), true);
    ASSERT_TRUE(RecordRead(conn(), {7, "clerk"}, "person", "1", "370725107202").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_FALSE(conn().Execute("UPDATE audit_log SET actor = 'x' WHERE id = 1").ok());
  EXPECT_FALSE(conn().Execute("DELETE FROM audit_log WHERE id = 4").ok());
  EXPECT_FALSE(conn().Execute("UPDATE read_log SET actor = 'x'").ok());
  EXPECT_FALSE(conn().Execute("DELETE FROM read_log").ok());
  if (GetParam() == "postgresql") EXPECT_FALSE(conn().ExecScript("TRUNCATE audit_log").ok());
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
  EXPECT_EQ(rep.reads, 1);
}

// A chain from before migration 13 (plain SHA-256, read log unchained) is re-keyed by
// SealChain, once; a broken one is refused.
TEST_P(AuditTest, SealChainRekeysAnIntactPlainChainOnly) {
  ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 0 WHERE id = 1").ok());
  Recompute(conn(), 1, false);
  Exec("INSERT INTO read_log (id, at, actor_id, actor, entity, entity_id, region_code) VALUES "
       "(5, '2026-01-01T00:00:00+08:00', 7, 'clerk', 'person', '1', '370725'), "
       "(9, '2026-01-02T00:00:00+08:00', 7, 'clerk', 'person', '2', '370725')");
  EXPECT_FALSE(Check().ok);
  auto sealed = SealChain(conn());
  ASSERT_TRUE(sealed.ok()) << sealed.status().detail();
  EXPECT_TRUE(sealed->rekeyed);
  EXPECT_EQ(sealed->entries, 4);
  EXPECT_EQ(sealed->reads, 2);
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.reads, 2);
  EXPECT_TRUE(CheckKeyMatchesChain(conn()).ok());
  EXPECT_FALSE(SealChain(conn())->rekeyed);  // once
  EXPECT_FALSE(conn().Execute("UPDATE audit_log SET actor = 'x' WHERE id = 1").ok());
  // A plain chain with an edit is not re-keyed.
  ASSERT_TRUE(conn().Execute("UPDATE audit_head SET sealed = 0 WHERE id = 1").ok());
  Recompute(conn(), 1, false);
  Exec("UPDATE audit_log SET actor = 'someone' WHERE id = 3");
  EXPECT_FALSE(SealChain(conn()).ok());
  EXPECT_FALSE(CheckKeyMatchesChain(conn()).ok());
}

TEST_P(AuditTest, ServeRefusesAnotherKey) {
  EXPECT_TRUE(CheckKeyMatchesChain(conn()).ok());
  const ChainKeys saved = *CurrentKeys();
  UseKeys(TestKeys(FreshDir()));
  EXPECT_FALSE(CheckKeyMatchesChain(conn()).ok());
  UseKeys(saved);
}

TEST(CommitReceipt, NothingPendingFiresAtOnce) {
  CommitReceipt receipt;
  EXPECT_FALSE(receipt.Pending());
  bool fired = false;
  receipt.Then([&](Status st) { fired = st.ok(); });
  EXPECT_TRUE(fired);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, ::testing::ValuesIn(storage::testing::Backends()));

TEST(Sha256, KnownVector) {
  ASSERT_GE(sodium_init(), 0);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace doudi::audit

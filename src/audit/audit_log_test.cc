#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "storage/test_db.h"

namespace doudi::audit {
namespace {

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
  VerifyReport Check() {
    auto r = Verify(conn());
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : VerifyReport{};
  }
};

TEST_P(AuditTest, IntactChainVerifies) {
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
}

TEST_P(AuditTest, EditedRowIsNamed) {
  ASSERT_TRUE(conn().Execute("UPDATE audit_log SET after_json = '{\"area\":\"rural\"}' WHERE id = 3").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 3);
}

TEST_P(AuditTest, EditedRowAndItsHashIsNamed) {
  ASSERT_TRUE(conn().Execute("UPDATE audit_log SET actor = 'someone', hash = 'ff' WHERE id = 2").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 2);
}

TEST_P(AuditTest, DeletedRowIsNamed) {
  ASSERT_TRUE(conn().Execute("DELETE FROM audit_log WHERE id = 2").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 2);
}

TEST_P(AuditTest, TruncatedTailIsDetected) {
  ASSERT_TRUE(conn().Execute("DELETE FROM audit_log WHERE id = 4").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 4);
}

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
  auto tamper = conn().Execute("UPDATE audit_log SET actor = '李四' WHERE id = 5");
  ASSERT_TRUE(tamper.ok());
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
  WriteQueue queue(*db_);
  std::mutex mu;
  std::vector<std::optional<Status>> answered(3);
  auto submit = [&](int k, int64_t id) {
    storage::Transaction tx(conn(), true);
    const Entry entry{"thing.update", "thing", std::to_string(id), "370725107202", "{}", R"({"v":"新"})"};
    return queue.Submit(conn(), tx, "UPDATE things SET v = ?, version = version + 1 WHERE id = ? RETURNING id",
                        {std::string("新"), id}, {7, "张三"}, entry,
                        {"SELECT id FROM things WHERE id = ? FOR UPDATE", {id}, id},
                        [&, k](const WriteQueue::Outcome& o) {
                          std::lock_guard<std::mutex> g(mu);
                          answered[k] = o.status;
                          return o.status;
                        });
  };
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
  auto await_lock_wait = [&] {  // until a session of this database waits for a lock
    for (int i = 0; i < 1000; ++i) {
      auto waiting = row_holder->Query(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      if (!waiting.ok() || waiting->rows[0].Int(0) > 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  // The first write waits for the head; the next two queue meanwhile and become one batch.
  ASSERT_TRUE(head_holder->ExecScript("BEGIN; SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").ok());
  auto receipt = std::make_shared<CommitReceipt>();
  {
    DeferCommits defer(receipt);
    submit(0, 3);
  }
  await_lock_wait();
  {
    DeferCommits defer(receipt);
    submit(1, 1);
    submit(2, 2);
  }
  ASSERT_TRUE(row_holder->ExecScript("BEGIN; UPDATE things SET v = '别人' WHERE id = 2").ok());
  ASSERT_TRUE(head_holder->ExecScript("ROLLBACK").ok());
  // Once the first batch is done, the second one waits for thing 2's row.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (answered[0].has_value()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  await_lock_wait();
  {
    std::lock_guard<std::mutex> g(mu);
    ASSERT_TRUE(answered[0].has_value() && answered[0]->ok());
    EXPECT_FALSE(answered[1].has_value());  // thing 1 is in the waiting batch
  }
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

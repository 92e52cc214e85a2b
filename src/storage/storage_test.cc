#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/test_db.h"

namespace doudi::storage {
namespace {

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing::OpenFresh(GetParam());
    ASSERT_TRUE(db_);
    auto lease = db_->Acquire();
    ASSERT_TRUE(lease.ok());
    conn_.emplace(std::move(lease).value());
    ASSERT_TRUE((*conn_)->ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n BIGINT, note TEXT)").ok());
  }
  Connection& conn() { return **conn_; }
  std::unique_ptr<Database> db_;
  std::optional<Lease> conn_;
};

TEST_P(StorageTest, RoundTripsValuesAndNulls) {
  auto n = conn().Execute("INSERT INTO things (id, name, n, note) VALUES (?, ?, ?, ?)",
                          {int64_t{1}, std::string("王秀英"), int64_t{-9007199254740993}, nullptr});
  ASSERT_TRUE(n.ok()) << n.status().detail();
  EXPECT_EQ(*n, 1);
  auto rs = conn().Query("SELECT name, n, note FROM things WHERE id = ?", {int64_t{1}});
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "王秀英");
  EXPECT_EQ(rs->rows[0].Int(1), -9007199254740993);
  EXPECT_TRUE(rs->rows[0].IsNull(2));
}

TEST_P(StorageTest, QuestionMarkInsideLiteralIsNotAPlaceholder) {
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (?, 'what?')", {int64_t{7}}).ok());
  auto rs = conn().Query("SELECT name FROM things WHERE id = ?", {int64_t{7}});
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Text(0), "what?");
}

TEST_P(StorageTest, UniqueViolationIsConflict) {
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (1, 'a')").ok());
  auto dup = conn().Execute("INSERT INTO things (id, name) VALUES (2, 'a')");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kConflict);
}

TEST_P(StorageTest, TransactionRollsBackUnlessCommitted) {
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (1, 'gone')").ok());
  }
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (2, 'kept')").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto rs = conn().Query("SELECT name FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "kept");
}

// On PostgreSQL BEGIN travels with the transaction's first statement (one round trip): a
// prepared statement that fails there still reports its error and rolls the transaction
// back, a transaction that ran nothing commits, and the connection stays usable.
TEST_P(StorageTest, FirstStatementOfATransactionFailsCleanly) {
  const char* insert = "INSERT INTO things (id, name) VALUES (?, ?)";
  ASSERT_TRUE(conn().Execute(insert, {int64_t{1}, std::string("a")}).ok());  // prepared now
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    auto dup = conn().Execute(insert, {int64_t{2}, std::string("a")});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.status().code(), Code::kConflict);
  }
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    ASSERT_TRUE(conn().Execute(insert, {int64_t{3}, std::string("c")}).ok());
    ASSERT_TRUE(conn().Execute(insert, {int64_t{4}, std::string("d")}).ok());
  }  // rolled back
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    EXPECT_TRUE(tx.Commit().ok());  // nothing ran
  }
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    ASSERT_TRUE(conn().Execute(insert, {int64_t{5}, std::string("e")}).ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto rs = conn().Query("SELECT id FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 2u);
  EXPECT_EQ(rs->rows[0].Int(0), 1);
  EXPECT_EQ(rs->rows[1].Int(0), 5);
}

// A transaction's last statement and its commit (one round trip on PostgreSQL): committed
// when it succeeds, with or without a pending BEGIN; when it fails, the commit is skipped and
// the transaction's earlier writes roll back; the connection stays usable.
TEST_P(StorageTest, CommitAfterCommitsOrLeavesTheTransactionToRollBack) {
  const char* insert = "INSERT INTO things (id, name) VALUES (?, ?)";
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(conn().Execute(insert, {int64_t{1}, std::string("a")}).ok());
    auto n = tx.CommitAfter(insert, {int64_t{2}, std::string("b")});
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, 1);
  }
  {
    Transaction tx(conn(), true);  // BEGIN still pending: it goes in the same round trip
    ResultSet rows;                // and the statement's rows come back
    auto n = tx.CommitAfter("INSERT INTO things (id, name) VALUES (?, ?) RETURNING id, name",
                            {int64_t{3}, std::string("c")}, &rows);
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, 1);
    ASSERT_EQ(rows.rows.size(), 1u);
    EXPECT_EQ(rows.rows[0].Int(0), 3);
    EXPECT_EQ(rows.rows[0].Text(1), "c");
  }
  {
    Transaction tx(conn(), true);
    ASSERT_TRUE(conn().Execute(insert, {int64_t{4}, std::string("d")}).ok());
    auto dup = tx.CommitAfter(insert, {int64_t{5}, std::string("a")});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.status().code(), Code::kConflict);
  }  // rolled back: 4 is gone
  auto rs = conn().Query("SELECT id FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok()) << rs.status().detail();
  ASSERT_EQ(rs->rows.size(), 3u);
  EXPECT_EQ(rs->rows[0].Int(0), 1);
  EXPECT_EQ(rs->rows[1].Int(0), 2);
  EXPECT_EQ(rs->rows[2].Int(0), 3);
}

// A batch of statements in a transaction of its own (one round trip on PostgreSQL): all
// committed with each statement's rows, or, when one fails, none, with the failing one named
// and the connection out of the transaction and usable.
TEST_P(StorageTest, BatchCommitsAllOrNothingAndNamesTheFailingStatement) {
  const std::string insert = "INSERT INTO things (id, name) VALUES (?, ?) RETURNING id, name";
  std::vector<ResultSet> results;
  size_t failed = 99;
  Status st = conn().ExecuteBatchThenCommit(
      {{insert, {int64_t{1}, std::string("a")}}, {insert, {int64_t{2}, std::string("b")}},
       {"UPDATE things SET name = 'z' WHERE id = ? RETURNING id", {int64_t{42}}}},
      &results, &failed);
  ASSERT_TRUE(st.ok()) << st.detail();
  ASSERT_EQ(results.size(), 3u);
  ASSERT_EQ(results[0].rows.size(), 1u);
  EXPECT_EQ(results[0].rows[0].Int(0), 1);
  EXPECT_EQ(results[1].rows[0].Text(1), "b");
  EXPECT_TRUE(results[2].empty());  // matched nothing: no rows, not an error
  st = conn().ExecuteBatchThenCommit({{insert, {int64_t{3}, std::string("c")}},
                                      {insert, {int64_t{4}, std::string("a")}},  // name taken
                                      {insert, {int64_t{5}, std::string("e")}}},
                                     &results, &failed);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(failed, 1u);
  EXPECT_TRUE(results.empty());
  auto rs = conn().Query("SELECT id FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok()) << rs.status().detail();  // not left in an aborted transaction
  ASSERT_EQ(rs->rows.size(), 2u);
  EXPECT_EQ(rs->rows[1].Int(0), 2);
  st = conn().ExecuteBatchThenCommit({{insert, {int64_t{6}, std::string("f")}}}, &results, &failed);
  EXPECT_TRUE(st.ok()) << st.detail();
}

// On PostgreSQL a failed statement aborts its transaction and COMMIT then answers ROLLBACK:
// Commit() reports that as a failure, never as committed.
TEST_P(StorageTest, ACommitThatRolledBackIsNotASuccess) {
  if (GetParam() != "postgresql") GTEST_SKIP() << "SQLite keeps the transaction after a failed statement";
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (1, 'a')").ok());
  ASSERT_TRUE(conn().Begin(true).ok());
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (2, 'b')").ok());
  ASSERT_FALSE(conn().Execute("INSERT INTO things (id, name) VALUES (3, 'a')").ok());  // name taken
  EXPECT_FALSE(conn().Commit().ok());
  auto rs = conn().Query("SELECT COUNT(*) FROM things");
  ASSERT_TRUE(rs.ok()) << rs.status().detail();
  EXPECT_EQ(rs->rows[0].Int(0), 1);
}

// A connection given back inside a transaction is closed (which rolls the transaction back),
// not lent again: the next borrower is outside any transaction and can write. The idle
// connections stay (it was not lost).
TEST_P(StorageTest, ConnectionGivenBackInsideATransactionIsClosed) {
  const bool pg = GetParam() == "postgresql";
  auto pid_of = [pg](Connection& c) -> int64_t {
    if (!pg) return 0;
    auto rs = c.Query("SELECT pg_backend_pid()");
    return rs.ok() ? rs->rows[0].Int(0) : -1;
  };
  int64_t idle = 0;
  {
    auto other = db_->Acquire();
    ASSERT_TRUE(other.ok());
    idle = pid_of(**other);
  }  // idle in the pool
  ASSERT_TRUE(conn().Begin(true).ok());
  ASSERT_TRUE(conn().Execute("INSERT INTO things (id, name) VALUES (1, 'never committed')").ok());
  EXPECT_FALSE(conn().Usable());
  EXPECT_FALSE(conn().Lost());
  conn_.reset();  // given back without commit or rollback
  auto lease = db_->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_TRUE((*lease)->Usable());
  EXPECT_EQ(pid_of(**lease), idle);  // the idle connection, kept
  Transaction tx(**lease, true);  // on SQLite: waits for the closed connection's write lock, if it kept it
  ASSERT_TRUE(tx.status().ok()) << tx.status().detail();
  ASSERT_TRUE((*lease)->Execute("INSERT INTO things (id, name) VALUES (2, 'committed')").ok());
  ASSERT_TRUE(tx.Commit().ok());
  auto rs = (*lease)->Query("SELECT id FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok()) << rs.status().detail();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0].Int(0), 2);
}

// When the server ends a connection (a restart, a failover, an administrator), the pool does
// not lend it, nor the idle connections lost with it, again: the request that found it lost
// fails, the next ones get new connections.
TEST_P(StorageTest, LostConnectionsAreReplaced) {
  if (GetParam() != "postgresql") GTEST_SKIP() << "a SQLite connection is a file handle";
  auto pid_of = [](Connection& c) {
    auto rs = c.Query("SELECT pg_backend_pid()");
    return rs.ok() ? rs->rows[0].Int(0) : int64_t{-1};
  };
  const int64_t lent = pid_of(conn());
  int64_t idle = -1;
  {
    auto other = db_->Acquire();
    ASSERT_TRUE(other.ok());
    idle = pid_of(**other);
  }  // back in the pool, idle
  ASSERT_GT(lent, 0);
  ASSERT_GT(idle, 0);
  auto admin = db_->OpenDedicated();
  ASSERT_TRUE(admin.ok());
  for (int64_t pid : {lent, idle}) {
    auto rs = (*admin)->Query("SELECT pg_terminate_backend(?, 5000)", {pid});  // waits for the end
    ASSERT_TRUE(rs.ok()) << rs.status().detail();
  }
  EXPECT_FALSE(conn().Query("SELECT 1").ok());  // this request finds its connection lost
  EXPECT_FALSE(conn().Usable());
  conn_.reset();
  // Lent next: the lost one just given back, or else the idle one lost with it.
  auto lease = db_->Acquire();
  ASSERT_TRUE(lease.ok());
  const int64_t now = pid_of(**lease);
  EXPECT_GT(now, 0);
  EXPECT_NE(now, lent);
  EXPECT_NE(now, idle);
}

TEST_P(StorageTest, BulkInsertEscapesAndNulls) {
  Transaction tx(conn(), true);
  std::vector<std::vector<std::optional<std::string>>> rows = {
      {"1", "tab\there", std::nullopt}, {"2", "back\\slash\nnewline", "x"}};
  ASSERT_TRUE(conn().BulkInsert("things", {"id", "name", "note"}, rows).ok());
  ASSERT_TRUE(tx.Commit().ok());
  auto rs = conn().Query("SELECT name, note FROM things ORDER BY id");
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 2u);
  EXPECT_EQ(rs->rows[0].Text(0), "tab\there");
  EXPECT_TRUE(rs->rows[0].IsNull(1));
  EXPECT_EQ(rs->rows[1].Text(0), "back\\slash\nnewline");
}

TEST_P(StorageTest, MigrateIsIdempotentAndReturningWorks) {
  int applied = -1;
  ASSERT_TRUE(Migrate(conn(), &applied).ok());
  EXPECT_GE(applied, 1);
  ASSERT_TRUE(Migrate(conn(), &applied).ok());
  EXPECT_EQ(applied, 0);
  if (conn().dialect() == Dialect::kPostgres) {  // room for HOT updates (migration 11)
    auto ff = conn().Query(
        "SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relname IN ('households', 'persons') "
        "AND relnamespace = current_schema()::regnamespace ORDER BY relname");
    ASSERT_TRUE(ff.ok()) << ff.status().detail();
    ASSERT_EQ(ff->rows.size(), 2u);
    EXPECT_EQ(ff->rows[0].Text(1), "fillfactor=90");
    EXPECT_EQ(ff->rows[1].Text(1), "fillfactor=90");
  }
  ASSERT_TRUE(conn().Execute("INSERT INTO regions (code, parent_code, level, name) VALUES ('370725', NULL, 'county', '昌乐县')").ok());
  auto rs = conn().Query(
      "INSERT INTO users (username, display_name, password_hash, role, region_code, created_at) "
      "VALUES ('a', 'A', 'h', 'auditor', '370725', 'now') RETURNING id");
  ASSERT_TRUE(rs.ok()) << rs.status().detail();
  EXPECT_GE(rs->rows[0].Int(0), 1);
}

TEST_P(StorageTest, ForeignKeysAreEnforced) {
  int applied = 0;
  ASSERT_TRUE(Migrate(conn(), &applied).ok());
  auto r = conn().Execute(
      "INSERT INTO users (username, display_name, password_hash, role, region_code, created_at) "
      "VALUES ('a', 'A', 'h', 'auditor', '999999', 'now')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
}

TEST(Csv, SplitsQuotedCells) {
  auto cells = SplitCsvLine(R"(370725,"昌乐县, ""demo""",x)");
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[1], "昌乐县, \"demo\"");
}

// Another process holding the SQLite file's write lock past the busy timeout (a backup, the
// sqlite3 shell): the write did not happen and may be retried, 503 "busy", not a 500.
TEST(SqliteBusy, ALockHeldElsewhereAnswersUnavailable) {
  const auto path = std::filesystem::temp_directory_path() / (testing::UniqueName() + ".db");
  auto db = Database::Open("sqlite:" + path.string());
  ASSERT_TRUE(db.ok()) << db.status().detail();
  auto lease = (*db)->Acquire();
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY)").ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto insert = (*lease)->Execute("INSERT INTO things (id) VALUES (1)");  // waits the busy timeout
  ASSERT_FALSE(insert.ok());
  EXPECT_EQ(insert.status().code(), Code::kUnavailable) << insert.status().detail();
  EXPECT_EQ(insert.status().message(), "数据库繁忙，请稍后重试");
  {
    Transaction tx(**lease, true);  // BEGIN IMMEDIATE itself is refused the same way
    EXPECT_EQ(tx.status().code(), Code::kUnavailable) << tx.status().detail();
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE((*lease)->Execute("INSERT INTO things (id) VALUES (1)").ok());  // free again
  std::filesystem::remove(path);
}

TEST(DatabaseUrl, RejectsUnknownScheme) {
  auto db = Database::Open("mysql://x");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().field(), "db");
}

// A listening TCP socket on 127.0.0.1 with a port the kernel chose (*port; 0 on failure).
int ListenOnLoopback(int* port) {
  *port = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 && listen(fd, 8) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    *port = ntohs(a.sin_port);
  return fd;
}

// A PostgreSQL address whose host takes the connection and never answers (the kernel completes
// the handshake; nobody reads): libpq would wait for the server's reply for ever.
class SilentServer {
 public:
  SilentServer() : fd_(ListenOnLoopback(&port_)) {}
  ~SilentServer() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int port_ = 0;  // before fd_: set by fd_'s initializer
  int fd_ = -1;
};

// Opens url on a thread; the seconds it took, or nullopt if it had not given up within 30 s.
std::optional<double> SecondsToGiveUp(const std::string& url, Status* status) {
  auto started = std::chrono::steady_clock::now();
  auto opened = std::make_shared<std::promise<Status>>();
  std::future<Status> done = opened->get_future();
  std::thread([url, opened] {
    auto db = Database::Open(url);
    opened->set_value(db.ok() ? Status::Ok() : db.status());
  }).detach();  // a hang must fail the test, not block it
  if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return std::nullopt;
  *status = done.get();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

TEST(PostgresConnect, GivesUpOnASilentServerAfterTheDefaultOrTheUrlsTimeout) {
  SilentServer silent;
  ASSERT_GT(silent.port(), 0);
  const std::string url = "postgresql://doudi@127.0.0.1:" + std::to_string(silent.port()) + "/doudi";
  Status st;
  auto took = SecondsToGiveUp(url, &st);
  ASSERT_TRUE(took.has_value()) << "still connecting after 30 s";
  EXPECT_EQ(st.field(), "db") << st.detail();  // at start-up: the URL is named
  EXPECT_NE(st.message().find("PostgreSQL"), std::string::npos) << st.message();
  EXPECT_GE(*took, 4.0);  // the default, 5 s
  took = SecondsToGiveUp(url + "?connect_timeout=2", &st);
  ASSERT_TRUE(took.has_value());
  EXPECT_EQ(st.field(), "db");
  EXPECT_LT(*took, 4.0);  // the URL's own value wins
}

// A TCP relay between a client and PostgreSQL that, once the client has sent a COMMIT, keeps
// the server's answers to itself and, when the server has answered the COMMIT, closes the
// client's side: the connection is lost after the transaction committed and before the client
// heard so. One client connection at a time is enough for the tests.
class CommitCuttingRelay {
 public:
  CommitCuttingRelay(std::string host, int port)
      : host_(std::move(host)), upstream_port_(port), listen_fd_(ListenOnLoopback(&port_)) {
    if (port_) acceptor_ = std::thread([this] { Accept(); });
  }
  ~CommitCuttingRelay() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& l : links_) {
      shutdown(l->client, SHUT_RDWR);
      shutdown(l->server, SHUT_RDWR);
      for (auto* t : {&l->up, &l->down})
        if (t->joinable()) t->join();
      close(l->client);
      close(l->server);
    }
  }
  int port() const { return port_; }
  int cuts() const { return cuts_; }

 private:
  struct Link {
    int client = -1, server = -1;
    std::atomic<bool> commit_sent{false};
    std::thread up, down;
  };
  static bool SendAll(int fd, const char* p, size_t n) {
    while (n) {
      ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  void Accept() {
    while (!stopping_) {
      int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
      if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(c);
        close(s);
        continue;
      }
      auto link = std::make_unique<Link>();
      link->client = c;
      link->server = s;
      Link* l = link.get();
      // Client to server: everything; a COMMIT among it arms the cut before it is passed on.
      l->up = std::thread([l] {
        char buf[8192];
        for (ssize_t n; (n = recv(l->client, buf, sizeof buf, 0)) > 0;) {
          if (std::string_view(buf, static_cast<size_t>(n)).find("COMMIT") != std::string_view::npos)
            l->commit_sent = true;
          if (!SendAll(l->server, buf, static_cast<size_t>(n))) break;
        }
        shutdown(l->server, SHUT_WR);
      });
      // Server to client: passed on until a COMMIT was sent; then held back until the
      // server's CommandComplete "COMMIT" arrives, and the client's side is closed.
      l->down = std::thread([this, l] {
        char buf[8192];
        std::string held;
        for (ssize_t n; (n = recv(l->server, buf, sizeof buf, 0)) > 0;) {
          if (!l->commit_sent) {
            if (!SendAll(l->client, buf, static_cast<size_t>(n))) break;
            continue;
          }
          held.append(buf, static_cast<size_t>(n));
          if (held.find(std::string_view("COMMIT\0", 7)) != std::string::npos) {
            ++cuts_;
            shutdown(l->client, SHUT_RDWR);
            break;
          }
          // Ready for the next query without a COMMIT answered (the COMMIT seen going up was
          // not one, or was refused): passed on, so the test fails on its expectations rather
          // than waiting for ever.
          if (held.find(std::string_view("Z\0\0\0\5", 5)) != std::string::npos) {
            l->commit_sent = false;
            if (!SendAll(l->client, held.data(), held.size())) break;
            held.clear();
          }
        }
      });
      std::lock_guard lock(mu_);
      links_.push_back(std::move(link));
    }
  }

  std::string host_;
  int upstream_port_;
  int port_ = 0;  // before listen_fd_: set by its initializer
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> cuts_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Link>> links_;
};

// A connection lost after COMMIT was sent and before its answer: the transaction did commit
// here, and each way of committing says Status::OutcomeUnknown ("whether it committed is not
// known"), never "unavailable" (which invites a retry that would write it twice).
TEST(PostgresCommit, ALostAnswerToCommitIsAnUnknownOutcome) {
  const char* env = std::getenv("DOUDI_TEST_PG_URL");
  if (!env || !*env) GTEST_SKIP() << "DOUDI_TEST_PG_URL is not set";
  const std::string base = env;  // postgresql://user@host:port/db
  const size_t at = base.find('@'), colon = base.find(':', at), slash = base.find('/', colon);
  ASSERT_TRUE(at != std::string::npos && colon != std::string::npos && slash != std::string::npos) << base;
  CommitCuttingRelay relay(base.substr(at + 1, colon - at - 1), std::stoi(base.substr(colon + 1, slash - colon - 1)));
  ASSERT_GT(relay.port(), 0);

  auto direct = testing::OpenFresh("postgresql");
  ASSERT_TRUE(direct);
  auto lease = direct->Acquire();
  ASSERT_TRUE(lease.ok());
  Connection& check = **lease;
  ASSERT_TRUE(check.ExecScript("CREATE TABLE things (id INTEGER PRIMARY KEY)").ok());
  auto schema = check.Query("SELECT current_schema()");
  ASSERT_TRUE(schema.ok());
  const std::string url = base.substr(0, colon + 1) + std::to_string(relay.port()) + base.substr(slash) +
                          (base.find('?') == std::string::npos ? "?" : "&") +
                          "sslmode=disable&options=-csearch_path%3D" + schema->rows[0].Text(0);
  auto relayed = Database::Open(url, 1);
  ASSERT_TRUE(relayed.ok()) << relayed.status().detail();
  auto committed = [&](int64_t id) {
    auto rs = check.Query("SELECT COUNT(*) FROM things WHERE id = ?", {id});
    return rs.ok() && rs->rows[0].Int(0) == 1;
  };
  auto fresh = [&]() -> std::unique_ptr<Connection> {
    auto c = (*relayed)->OpenDedicated();
    EXPECT_TRUE(c.ok()) << c.status().detail();
    return c.ok() ? std::move(c).value() : nullptr;
  };

  {  // BEGIN … COMMIT, the COMMIT on its own
    auto c = fresh();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->Begin(true).ok());
    ASSERT_TRUE(c->Execute("INSERT INTO things (id) VALUES (1)").ok());
    Status st = c->Commit();
    EXPECT_EQ(st.reason(), "outcome_unknown") << st.detail();
    EXPECT_TRUE(c->Lost());
    EXPECT_TRUE(committed(1));
  }
  {  // the last statement and COMMIT in one round trip
    auto c = fresh();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->Begin(true).ok());
    bool ended = false;
    auto n = c->ExecuteThenCommit("INSERT INTO things (id) VALUES (?)", {int64_t{2}}, &ended);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().reason(), "outcome_unknown") << n.status().detail();
    EXPECT_TRUE(ended);
    EXPECT_TRUE(committed(2));
  }
  {  // a batch: BEGIN, the statements and COMMIT in one round trip
    auto c = fresh();
    ASSERT_TRUE(c);
    std::vector<ResultSet> results;
    size_t failed = 0;
    Status st = c->ExecuteBatchThenCommit({{"INSERT INTO things (id) VALUES (?)", {int64_t{3}}},
                                           {"INSERT INTO things (id) VALUES (?)", {int64_t{4}}}},
                                          &results, &failed);
    EXPECT_EQ(st.reason(), "outcome_unknown") << st.detail();
    EXPECT_EQ(failed, 2u);  // no statement was refused
    EXPECT_TRUE(committed(3) && committed(4));
  }
  EXPECT_EQ(relay.cuts(), 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::ValuesIn(testing::Backends()));

}  // namespace
}  // namespace doudi::storage

// Storage: one small interface over SQLite (sqlite3 C API) and PostgreSQL (libpq).
//
// SQL is written once with `?` placeholders; the PostgreSQL backend rewrites them to $1..$n.
// Every value travels as text or NULL (both engines convert), rows come back as optional
// strings. Write SQL that both engines accept (INSERT … RETURNING, ON CONFLICT DO NOTHING,
// no engine-specific functions); dialect differences in DDL are handled by migrations.h.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace doudi::storage {

using Value = std::variant<std::nullptr_t, int64_t, std::string>;
using Params = std::vector<Value>;

struct Statement {
  std::string sql;
  Params params;
};

struct Row {
  std::vector<std::optional<std::string>> cells;
  bool IsNull(size_t i) const { return !cells[i].has_value(); }
  const std::string& Text(size_t i) const;  // "" for NULL
  int64_t Int(size_t i) const;              // 0 for NULL
  bool Bool(size_t i) const { return Int(i) != 0; }
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
};

enum class Dialect { kSqlite, kPostgres };

// One database connection. Not thread-safe: use it from one thread at a time (the pool
// hands each request its own).
class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Dialect dialect() const = 0;
  // False once the connection cannot serve another request: lost (the server restarted, or
  // its backend was ended), or given back mid-transaction. The pool closes it.
  virtual bool Usable() const = 0;
  // Lost: the server ended it (the pool then closes the idle connections too).
  virtual bool Lost() const { return false; }
  // Whether a transaction is open on the connection (BEGIN not yet ended).
  virtual bool InTransaction() const = 0;
  // Runs a statement; returns the number of rows changed.
  virtual Result<int64_t> Execute(std::string_view sql, const Params& params = {}) = 0;
  // Runs a statement that returns rows (SELECT, or INSERT/UPDATE … RETURNING).
  virtual Result<ResultSet> Query(std::string_view sql, const Params& params = {}) = 0;
  // Runs several ;-separated statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Begins a transaction. `write` takes the write lock up front on SQLite (BEGIN IMMEDIATE)
  // so that read-then-write transactions cannot deadlock.
  virtual Status Begin(bool write) = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  // Runs a statement and commits (on PostgreSQL in one round trip, pipelined; the COMMIT is
  // skipped when the statement fails). Sets *ended when the transaction is over (committed,
  // the commit failed, or the connection was lost before the answers: Status::OutcomeUnknown):
  // otherwise it is still open and the caller rolls it back. With
  // `rows`, the statement returns rows (as Query) and they are stored there.
  virtual Result<int64_t> ExecuteThenCommit(std::string_view sql, const Params& params, bool* ended,
                                            ResultSet* rows = nullptr) {
    *ended = false;
    Result<int64_t> n = int64_t{0};
    if (rows) {
      auto rs = Query(sql, params);
      if (!rs.ok()) return rs.status();
      *rows = std::move(rs).value();
      n = static_cast<int64_t>(rows->rows.size());
    } else {
      n = Execute(sql, params);
      if (!n.ok()) return n;
    }
    *ended = true;
    DOUDI_RETURN_IF_ERROR(Commit());
    return n;
  }
  // Runs `statements` (as Query; a statement may return no rows) in a transaction of their own and
  // commits it: on PostgreSQL BEGIN, the statements and COMMIT go in one round trip
  // (pipelined), so a batch costs one commit (one WAL flush) however long it is. Call it
  // outside a transaction. On success (*results)[i] holds statement i's rows. On failure
  // nothing is committed, the transaction is over, and the error is returned with *failed set
  // to the index of the statement the server refused, or statements.size() when BEGIN or
  // COMMIT failed or the connection was lost before the answers (then the error is
  // Status::OutcomeUnknown: whether it committed is not known).
  virtual Status ExecuteBatchThenCommit(const std::vector<Statement>& statements, std::vector<ResultSet>* results,
                                        size_t* failed);
  // Bulk load: rows of text cells into table(columns). Uses COPY on PostgreSQL and a
  // prepared INSERT on SQLite. Must run inside a transaction.
  virtual Status BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                            const std::vector<std::vector<std::optional<std::string>>>& rows) = 0;

 protected:
  Connection() = default;
};

class Database;

// A connection borrowed from the pool; returned when the lease is destroyed.
class Lease {
 public:
  Lease(Database* db, std::unique_ptr<Connection> conn) : db_(db), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  ~Lease();
  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }
  Connection* get() const { return conn_.get(); }

 private:
  Database* db_;
  std::unique_ptr<Connection> conn_;
};

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  // url: "sqlite:PATH" or "postgresql://user:pass@host:port/db" (also "postgres://").
  static Result<std::unique_ptr<Database>> Open(const std::string& url, int max_connections = 16);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return dialect_; }
  const char* kind() const { return dialect_ == Dialect::kSqlite ? "sqlite" : "postgresql"; }
  // Borrows a connection, opening one if none is idle (up to max), else waits.
  Result<Lease> Acquire();
  // A connection outside the pool, for a component that keeps one for itself.
  Result<std::unique_ptr<Connection>> OpenDedicated() { return Connect(); }

 private:
  friend class Lease;
  Database(Dialect d, std::string target, int max) : dialect_(d), target_(std::move(target)), max_(max) {}
  Result<std::unique_ptr<Connection>> Connect();
  void Release(std::unique_ptr<Connection> conn);

  Dialect dialect_;
  std::string target_;
  int max_;
  int open_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// RAII transaction: rolls back unless Commit() succeeded.
class Transaction {
 public:
  Transaction(Connection& conn, bool write) : conn_(conn) { status_ = conn_.Begin(write); }
  ~Transaction() {
    if (status_.ok() && !done_) conn_.Rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& status() const { return status_; }
  Status Commit() {
    done_ = true;
    return conn_.Commit();
  }
  // The transaction's last statement and its commit (Connection::ExecuteThenCommit).
  Result<int64_t> CommitAfter(std::string_view sql, const Params& params, ResultSet* rows = nullptr) {
    return conn_.ExecuteThenCommit(sql, params, &done_, rows);
  }

 private:
  Connection& conn_;
  Status status_;
  bool done_ = false;
};

std::unique_ptr<Connection> OpenSqlite(const std::string& path, Status* status);
std::unique_ptr<Connection> OpenPostgres(const std::string& conninfo, Status* status);

}  // namespace doudi::storage

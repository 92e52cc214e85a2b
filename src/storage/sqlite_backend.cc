// SQLite backend: WAL journal, foreign keys on, 5 s busy timeout, prepared-statement cache.
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "storage/database.h"

namespace doudi::storage {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view sql) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return Status(Code::kConflict, "conflict", "记录已存在", "");
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
    return Status(Code::kFailedPrecondition, "failed_precondition", "关联记录不存在", "");
  // Another process (a backup, the sqlite3 shell) held the file's lock past the busy timeout:
  // the statement did not run.
  if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
    return Status::Unavailable("sqlite: " + msg + " in: " + std::string(sql.substr(0, 200)), "数据库繁忙，请稍后重试");
  return Status::Internal("sqlite: " + msg + " in: " + std::string(sql.substr(0, 200)));
}

// One write lock per database file and process: write transactions of this process queue
// on it instead of SQLite's busy handler, which sleeps 1, 2, 5, 10 … ms between retries (a
// read-log batch waiting behind an update would sleep far longer than the update takes).
// Waits at most the busy timeout, then falls back to SQLite's own locking.
std::shared_ptr<std::timed_mutex> WriteLockFor(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<std::timed_mutex>> locks;
  std::lock_guard<std::mutex> g(mu);
  auto& weak = locks[path];
  auto lock = weak.lock();
  if (!lock) {
    lock = std::make_shared<std::timed_mutex>();
    weak = lock;
  }
  return lock;
}

constexpr int kBusyTimeoutMs = 5000;

class SqliteConnection final : public Connection {
 public:
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  SqliteConnection(sqlite3* db, std::shared_ptr<std::timed_mutex> write_lock)
      : db_(db), write_lock_(std::move(write_lock)) {}
  ~SqliteConnection() override {
    for (auto& [k, st] : cache_) sqlite3_finalize(st);
    sqlite3_close(db_);  // rolls back an open transaction
    ReleaseWriteLock();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  bool Usable() const override { return sqlite3_get_autocommit(db_) != 0 && !holds_write_lock_; }  // no transaction open

  Result<int64_t> Execute(std::string_view sql, const Params& params) override {
    sqlite3_stmt* st = nullptr;
    DOUDI_RETURN_IF_ERROR(Prepare(sql, params, &st));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    Status s = rc == SQLITE_DONE ? Status::Ok() : SqliteError(db_, rc, sql);
    sqlite3_reset(st);
    if (!s.ok()) return s;
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  Result<ResultSet> Query(std::string_view sql, const Params& params) override {
    sqlite3_stmt* st = nullptr;
    DOUDI_RETURN_IF_ERROR(Prepare(sql, params, &st));
    ResultSet rs;
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; ++i) rs.columns.emplace_back(sqlite3_column_name(st, i));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row row;
      row.cells.reserve(n);
      for (int i = 0; i < n; ++i) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) {
          row.cells.emplace_back(std::nullopt);
        } else {
          const unsigned char* t = sqlite3_column_text(st, i);
          row.cells.emplace_back(std::string(reinterpret_cast<const char*>(t),
                                             static_cast<size_t>(sqlite3_column_bytes(st, i))));
        }
      }
      rs.rows.push_back(std::move(row));
    }
    Status s = rc == SQLITE_DONE ? Status::Ok() : SqliteError(db_, rc, sql);
    sqlite3_reset(st);
    if (!s.ok()) return s;
    return rs;
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string s(sql);
    if (int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
      sqlite3_free(err);  // the connection's message says the same
      return SqliteError(db_, rc, sql);
    }
    return Status::Ok();
  }

  Status Begin(bool write) override {
    if (write && write_lock_ && !holds_write_lock_)
      holds_write_lock_ = write_lock_->try_lock_for(std::chrono::milliseconds(kBusyTimeoutMs));
    Status s = ExecScript(write ? "BEGIN IMMEDIATE" : "BEGIN");
    if (!s.ok()) ReleaseWriteLock();
    return s;
  }
  Status Commit() override {
    Status s = ExecScript("COMMIT");
    if (!s.ok() && !sqlite3_get_autocommit(db_)) ExecScript("ROLLBACK");  // never keep a failed transaction open
    ReleaseWriteLock();
    return s;
  }
  Status Rollback() override {
    Status s = ExecScript("ROLLBACK");
    ReleaseWriteLock();
    return s;
  }

  Status BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                    const std::vector<std::vector<std::optional<std::string>>>& rows) override {
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    std::string marks;
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? "," : "") + columns[i];
      marks += i ? ",?" : "?";
    }
    sql += ") VALUES (" + marks + ")";
    for (const auto& r : rows) {
      Params p;
      p.reserve(r.size());
      for (const auto& c : r) {
        if (c) p.emplace_back(*c);
        else p.emplace_back(nullptr);
      }
      auto res = Execute(sql, p);
      if (!res.ok()) return res.status();
    }
    return Status::Ok();
  }

 private:
  Status Prepare(std::string_view sql, const Params& params, sqlite3_stmt** out) {
    auto it = cache_.find(sql);
    sqlite3_stmt* st;
    if (it != cache_.end()) {
      st = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                  nullptr);
      if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
      cache_.emplace(std::string(sql), st);
    }
    sqlite3_clear_bindings(st);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(st))
      return Status::Internal("sqlite: parameter count mismatch in: " + std::string(sql.substr(0, 200)));
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) sqlite3_bind_null(st, idx);
      else if (auto* n = std::get_if<int64_t>(&v)) sqlite3_bind_int64(st, idx, *n);
      else {
        const auto& s = std::get<std::string>(v);
        sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
    }
    *out = st;
    return Status::Ok();
  }

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void ReleaseWriteLock() {
    if (holds_write_lock_) write_lock_->unlock();
    holds_write_lock_ = false;
  }

  sqlite3* db_;
  std::shared_ptr<std::timed_mutex> write_lock_;
  bool holds_write_lock_ = false;
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> cache_;
};

}  // namespace

std::unique_ptr<Connection> OpenSqlite(const std::string& path, Status* status) {
  // Memory statistics make every SQLite allocation take one global mutex, which the server's
  // threads then queue on; nothing here reads them. Only possible before SQLite initialises.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *status = Status::InvalidArgument("db", "无法打开 SQLite 数据库：" + path);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  auto conn = std::make_unique<SqliteConnection>(db, WriteLockFor(path));
  Status s = conn->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
      // A larger page cache per connection (an upper bound, not an allocation). No mmap:
      // the file grows at every checkpoint and each connection then remaps it.
      "PRAGMA cache_size=-32000;");
  if (!s.ok()) {
    *status = s;
    return nullptr;
  }
  return conn;
}

}  // namespace doudi::storage

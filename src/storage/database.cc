#include "storage/database.h"

namespace doudi::storage {

namespace {
const std::string kEmpty;
}

const std::string& Row::Text(size_t i) const { return cells[i] ? *cells[i] : kEmpty; }

int64_t Row::Int(size_t i) const {
  if (!cells[i] || cells[i]->empty()) return 0;
  const std::string& s = *cells[i];
  if (s == "t" || s == "true") return 1;  // PostgreSQL booleans
  if (s == "f" || s == "false") return 0;
  return std::stoll(s);
}

Status Connection::ExecuteBatchThenCommit(const std::vector<Statement>& statements, std::vector<ResultSet>* results,
                                          size_t* failed) {
  results->clear();
  *failed = statements.size();
  DOUDI_RETURN_IF_ERROR(Begin(true));
  for (size_t i = 0; i < statements.size(); ++i) {
    auto rs = Query(statements[i].sql, statements[i].params);
    if (!rs.ok()) {
      *failed = i;
      results->clear();
      Rollback();
      return rs.status();
    }
    results->push_back(std::move(rs).value());
  }
  Status st = Commit();
  if (!st.ok()) results->clear();
  return st;
}

Lease::~Lease() {
  if (conn_ && db_) db_->Release(std::move(conn_));
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, int max_connections) {
  std::unique_ptr<Database> db;
  if (url.rfind("sqlite:", 0) == 0) {
    db.reset(new Database(Dialect::kSqlite, url.substr(7), max_connections));
  } else if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    db.reset(new Database(Dialect::kPostgres, url, max_connections));
  } else {
    return Status::InvalidArgument("db", "数据库地址应为 sqlite:路径 或 postgresql://…");
  }
  // Open one connection now so a bad URL fails at start-up, not on the first request.
  auto conn = db->Connect();
  if (!conn.ok()) {
    // At start-up a database that cannot be reached is the URL's problem (host, password,
    // database name) as often as a passing one: named as the argument, with libpq's reason.
    if (conn.status().code() == Code::kUnavailable) return Status::InvalidArgument("db", conn.status().detail());
    return conn.status();
  }
  db->open_ = 1;
  db->idle_.push_back(std::move(conn).value());
  return db;
}

Database::~Database() = default;

Result<std::unique_ptr<Connection>> Database::Connect() {
  Status st;
  std::unique_ptr<Connection> c =
      dialect_ == Dialect::kSqlite ? OpenSqlite(target_, &st) : OpenPostgres(target_, &st);
  if (!c) return st;
  return c;
}

Result<Lease> Database::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    if (open_ < max_) {
      ++open_;
      lock.unlock();
      auto c = Connect();
      if (!c.ok()) {
        std::lock_guard<std::mutex> g(mu_);
        --open_;
        return c.status();
      }
      return Lease(this, std::move(c).value());
    }
    cv_.wait(lock);
  }
}

void Database::Release(std::unique_ptr<Connection> conn) {
  if (!conn->Usable()) {
    // Closed, not lent again. A lost connection usually means the server restarted or failed
    // over: the idle ones are lost too, though none knows it until it fails a request, so
    // they are closed with it; Acquire opens new ones.
    std::vector<std::unique_ptr<Connection>> closed;
    {
      std::lock_guard<std::mutex> g(mu_);
      --open_;
      if (conn->Lost()) {
        open_ -= static_cast<int>(idle_.size());
        closed.swap(idle_);
      }
    }
    cv_.notify_all();
    return;  // closed outside the lock
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

}  // namespace doudi::storage

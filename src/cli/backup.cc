#include "cli/backup.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/date.h"

extern char** environ;

namespace doudi::cli {
namespace {

namespace fs = std::filesystem;

bool IsSqlite(const std::string& url) { return url.rfind("sqlite:", 0) == 0; }
bool IsPostgres(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}
Status BadUrl() { return Status::InvalidArgument("db", "数据库地址应为 sqlite:路径 或 postgresql://…"); }

std::string ManifestPath(const std::string& file) { return file + ".manifest.json"; }

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Why a file could not be created or run, in the user's words.
std::string Reason(int err) {
  switch (err) {
    case ENOENT: return "目录或文件不存在";
    case EACCES:
    case EPERM: return "没有权限";
    case EEXIST: return "文件已存在";
    case ENOSPC: return "磁盘空间不足";
    case EROFS: return "文件系统只读";
    default: return "系统错误码 " + std::to_string(err);
  }
}

// A new, empty file only the owner can read (backups hold personal data).
Status CreatePrivateFile(const std::string& path, const std::string& field = "out") {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::InvalidArgument(field, "无法创建文件 " + path + "：" + Reason(errno));
  ::close(fd);
  return Status::Ok();
}

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::Internal("open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::Internal("fsync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

// Moves tmp to path; without `replace`, fails if path exists (never overwritten by a race).
Status Publish(const std::string& tmp, const std::string& path, bool replace) {
  DOUDI_RETURN_IF_ERROR(SyncPath(tmp, false));
  int rc = replace ? ::rename(tmp.c_str(), path.c_str())
                   : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (rc != 0) {
    if (errno == EEXIST) return Status::InvalidArgument("out", "文件已存在：" + path + "（如需覆盖请加 --force）");
    return Status::Internal("rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  fs::path dir = fs::path(path).parent_path();
  return SyncPath(dir.empty() ? "." : dir.string(), true);
}

// Removes the temporary files of a failed backup.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) {
      ::unlink(p.c_str());
      ::unlink((p + "-journal").c_str());
      ::unlink((p + "-wal").c_str());
      ::unlink((p + "-shm").c_str());
    }
  }
};

Status FileDigest(const std::string& path, uint64_t* size, std::string* hex) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("in", "无法读取文件：" + path);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 20);
  *size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()), static_cast<size_t>(n));
    *size += static_cast<uint64_t>(n);
  }
  if (in.bad()) return Status::Internal("read " + path);
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  char text[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(text, sizeof text, out, sizeof out);
  *hex = text;
  return Status::Ok();
}

Status Corrupt(const std::string& file, const std::string& why) {
  return Status::FailedPrecondition("备份文件已损坏或不是 doudi 备份：" + file + "（" + why + "）", "in");
}

// ------------------------------------------------------------------ SQLite

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;

Result<SqlitePtr> OpenSqliteFile(const std::string& path, int flags, const std::string& field) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqlitePtr db(raw);
  if (rc != SQLITE_OK) return Status::InvalidArgument(field, "无法打开 SQLite 数据库：" + path);
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

// Runs a statement and returns the first column of each row.
Result<std::vector<std::string>> SqliteColumn(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql);
  return out;
}

// Copies every page of `from` into `to` in one step: one read transaction of the source (a
// snapshot as of one commit; in WAL mode the server's writers go on meanwhile) and one write
// transaction of the destination (all or nothing).
Status CopySqlite(sqlite3* from, sqlite3* to) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) return Status::Internal(std::string("sqlite3_backup_init: ") + sqlite3_errmsg(to));
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && fin == SQLITE_OK) return Status::Ok();
    // A lock held by another process (e.g. an exclusive checkpoint): try again for ~10 s.
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 100) {
      sqlite3_sleep(100);
      continue;
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      return Status::Unavailable(std::string("sqlite3_backup_step: ") + sqlite3_errstr(rc), "数据库繁忙，请稍后重试");
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
      return Status::FailedPrecondition(std::string("数据库文件已损坏（") + sqlite3_errstr(rc) + "）", "in");
    return Status::Internal(std::string("sqlite3_backup_step: ") + sqlite3_errstr(rc) + ": " + sqlite3_errmsg(to));
  }
}

Result<AuditHead> SqliteHead(sqlite3* db) {
  DOUDI_ASSIGN_OR_RETURN(auto seq, SqliteColumn(db, "SELECT seq FROM audit_head WHERE id = 1"));
  DOUDI_ASSIGN_OR_RETURN(auto hash, SqliteColumn(db, "SELECT last_hash FROM audit_head WHERE id = 1"));
  if (seq.empty()) return Status::FailedPrecondition("数据库中没有审计链头（未迁移的数据库？）", "db");
  return AuditHead{std::stoll(seq[0]), hash[0]};
}

Result<int64_t> SqliteSchemaVersion(sqlite3* db) {
  DOUDI_ASSIGN_OR_RETURN(auto v, SqliteColumn(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return std::stoll(v.at(0));
}

Status BackupSqlite(const std::string& source, const std::string& tmp, BackupReport* rep) {
  if (!Exists(source)) return Status::InvalidArgument("db", "数据库文件不存在：" + source);
  DOUDI_ASSIGN_OR_RETURN(SqlitePtr from, OpenSqliteFile(source, SQLITE_OPEN_READWRITE, "db"));
  DOUDI_RETURN_IF_ERROR(CreatePrivateFile(tmp));
  DOUDI_ASSIGN_OR_RETURN(SqlitePtr to, OpenSqliteFile(tmp, SQLITE_OPEN_READWRITE, "out"));
  Status s = CopySqlite(from.get(), to.get());
  if (!s.ok()) return s.code() == Code::kFailedPrecondition ? Status::FailedPrecondition(s.message(), "db") : s;
  from.reset();
  // The copy keeps the source's WAL flag; a backup is one self-contained file.
  DOUDI_ASSIGN_OR_RETURN(auto mode, SqliteColumn(to.get(), "PRAGMA journal_mode=DELETE"));
  DOUDI_ASSIGN_OR_RETURN(auto check, SqliteColumn(to.get(), "PRAGMA quick_check"));
  if (check.empty() || check[0] != "ok")
    return Status::Internal("quick_check of the backup: " + (check.empty() ? std::string() : check[0]));
  DOUDI_ASSIGN_OR_RETURN(rep->head, SqliteHead(to.get()));
  DOUDI_ASSIGN_OR_RETURN(rep->schema_version, SqliteSchemaVersion(to.get()));
  return Status::Ok();
}

bool SqliteEmpty(const std::string& path, Status* error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return true;  // does not exist (yet)
  if (st.st_size == 0) return true;
  auto db = OpenSqliteFile(path, SQLITE_OPEN_READONLY, "db");
  if (!db.ok()) {
    *error = db.status();
    return false;
  }
  auto n = SqliteColumn(db->get(), "SELECT COUNT(*) FROM sqlite_master");
  if (!n.ok()) {
    *error = Status::InvalidArgument("db", "目标不是可用的 SQLite 数据库：" + path);
    return false;
  }
  return n->at(0) == "0";
}

Status RestoreSqlite(const std::string& in, const std::string& target) {
  // Check the backup before touching the target.
  DOUDI_ASSIGN_OR_RETURN(SqlitePtr from, OpenSqliteFile(in, SQLITE_OPEN_READONLY, "in"));
  auto check = SqliteColumn(from.get(), "PRAGMA integrity_check");
  if (!check.ok()) return Corrupt(in, sqlite3_errmsg(from.get()));
  if (check->empty() || (*check)[0] != "ok") return Corrupt(in, check->empty() ? "integrity_check" : (*check)[0]);
  // A target file created here is removed again if the copy fails.
  TempFiles created;
  if (!Exists(target)) {
    DOUDI_RETURN_IF_ERROR(CreatePrivateFile(target, "db"));
    created.paths.push_back(target);
  }
  DOUDI_ASSIGN_OR_RETURN(SqlitePtr to, OpenSqliteFile(target, SQLITE_OPEN_READWRITE, "db"));
  Status copied = CopySqlite(from.get(), to.get());
  if (!copied.ok()) return copied;  // `to` closes before `created` removes the file
  created.paths.clear();
  DOUDI_ASSIGN_OR_RETURN(auto mode, SqliteColumn(to.get(), "PRAGMA journal_mode=WAL"));
  return Status::Ok();
}

// ------------------------------------------------------------------ PostgreSQL

struct PgCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgPtr = std::unique_ptr<PGconn, PgCloser>;

Result<PgPtr> PgConnect(const std::string& url) {
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"10", url.c_str(), nullptr};
  PgPtr c(PQconnectdbParams(keys, values, 1));
  if (PQstatus(c.get()) != CONNECTION_OK)
    return Status::InvalidArgument("db", std::string("无法连接 PostgreSQL：") + PQerrorMessage(c.get()));
  return c;
}

// Runs sql; returns the first column of each row.
Result<std::vector<std::string>> PgColumn(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = PQerrorMessage(c);
    PQclear(r);
    return Status::Internal("postgresql: " + msg + " in: " + sql);
  }
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
  PQclear(r);
  return out;
}

// The URL's parameters as libpq's environment variables (PGHOST, PGPASSWORD, …), so that a
// client program connects as doudi does without the password on its command line.
Result<std::map<std::string, std::string>> PgEnvironment(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string why = err ? err : "";
    PQfreemem(err);
    return Status::InvalidArgument("db", "数据库地址无效：" + why);
  }
  std::map<std::string, std::string> env;
  Status bad;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    // Connection tuning with no environment variable: the tools' defaults do instead.
    static const std::set<std::string_view> kTuning = {"keepalives", "keepalives_idle", "keepalives_interval",
                                                        "keepalives_count", "tcp_user_timeout",
                                                        "fallback_application_name"};
    if (!o->envvar && kTuning.count(o->keyword)) continue;
    if (!o->envvar) {
      bad = Status::InvalidArgument("db", std::string("备份与恢复不支持数据库地址中的参数 ") + o->keyword);
      break;
    }
    env[o->envvar] = o->val;
  }
  PQconninfoFree(opts);
  if (!bad.ok()) return bad;
  return env;
}

// Runs a PostgreSQL client program with the URL's parameters in its environment; waits.
Status RunPgTool(const std::string& url, const std::vector<std::string>& args, const std::string& what) {
  DOUDI_ASSIGN_OR_RETURN(auto vars, PgEnvironment(url));
  vars["PGCONNECT_TIMEOUT"] = vars.count("PGCONNECT_TIMEOUT") ? vars["PGCONNECT_TIMEOUT"] : "10";
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && vars.count(std::string(kv.substr(0, eq)))) continue;
    env_text.emplace_back(kv);
  }
  for (const auto& [k, v] : vars) env_text.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_copy = args;
  for (auto& s : args_copy) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0)
    return Status::FailedPrecondition("无法运行 " + args[0] + "（请安装 postgresql-client-15）：" + Reason(rc));
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return Status::FailedPrecondition(what + "失败（" + args[0] + " 退出码 " +
                                      std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) + "，见上方输出）");
  return Status::Ok();
}

Status BackupPostgres(const std::string& url, const std::string& tmp, BackupReport* rep) {
  DOUDI_ASSIGN_OR_RETURN(PgPtr c, PgConnect(url));
  // One snapshot for the head read here and for pg_dump: the manifest names the head the
  // dump holds. The transaction stays open until pg_dump is done with it.
  DOUDI_RETURN_IF_ERROR(PgColumn(c.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").status());
  DOUDI_ASSIGN_OR_RETURN(auto snapshot, PgColumn(c.get(), "SELECT pg_export_snapshot()"));
  auto seq = PgColumn(c.get(), "SELECT seq FROM audit_head WHERE id = 1");
  if (!seq.ok() || seq->empty()) return Status::FailedPrecondition("数据库中没有审计链头（未迁移的数据库？）", "db");
  DOUDI_ASSIGN_OR_RETURN(auto hash, PgColumn(c.get(), "SELECT last_hash FROM audit_head WHERE id = 1"));
  rep->head = {std::stoll(seq->at(0)), hash.at(0)};
  DOUDI_ASSIGN_OR_RETURN(auto version, PgColumn(c.get(), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  rep->schema_version = std::stoll(version.at(0));
  DOUDI_RETURN_IF_ERROR(CreatePrivateFile(tmp));
  DOUDI_RETURN_IF_ERROR(RunPgTool(url,
                                  {"pg_dump", "--format=custom", "--no-password", "--snapshot=" + snapshot.at(0),
                                   "--file=" + tmp},
                                  "pg_dump 备份"));
  PgColumn(c.get(), "COMMIT");
  return Status::Ok();
}

Result<bool> PgEmpty(const std::string& url) {
  DOUDI_ASSIGN_OR_RETURN(PgPtr c, PgConnect(url));
  DOUDI_ASSIGN_OR_RETURN(auto n, PgColumn(c.get(),
                                          "SELECT COUNT(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                                          "ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S','f') "
                                          "AND n.nspname NOT IN ('pg_catalog','information_schema') "
                                          "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"));
  return n.at(0) == "0";
}

std::string QuoteConninfo(const std::string& v) {
  std::string out = "'";
  for (char ch : v) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "'";
}

Status RestorePostgres(const std::string& in, const std::string& url, bool clean) {
  DOUDI_ASSIGN_OR_RETURN(auto vars, PgEnvironment(url));
  // The archive's table of contents first: a file that is no pg_dump archive changes nothing.
  {
    std::vector<std::string> list = {"pg_restore", "--list", "--file=/dev/null", in};
    Status s = RunPgTool(url, list, "读取备份目录");
    if (!s.ok()) return Corrupt(in, "pg_restore --list");
  }
  // -d names the database only (its parameters, the password among them, are in the
  // environment); one transaction: nothing half-restored.
  std::vector<std::string> args = {"pg_restore", "--no-password", "--no-owner", "--no-privileges",
                                   "--single-transaction", "--exit-on-error",
                                   "--dbname=dbname=" + QuoteConninfo(vars.count("PGDATABASE") ? vars["PGDATABASE"] : "")};
  if (clean) {
    args.push_back("--clean");
    args.push_back("--if-exists");
  }
  args.push_back(in);
  return RunPgTool(url, args, "pg_restore 恢复");
}

Result<AuditHead> HeadOf(storage::Connection& conn) {
  DOUDI_ASSIGN_OR_RETURN(auto rs, conn.Query("SELECT seq, last_hash FROM audit_head WHERE id = 1"));
  if (rs.empty()) return AuditHead{};
  return AuditHead{rs.rows[0].Int(0), rs.rows[0].Text(1)};
}

}  // namespace

Result<audit::VerifyReport> VerifyRestored(storage::Connection& conn) { return audit::Verify(conn); }

Result<BackupReport> Backup(const std::string& db_url, const std::string& out, bool force) {
  if (!IsSqlite(db_url) && !IsPostgres(db_url)) return BadUrl();
  if (out.empty()) return Status::InvalidArgument("out", "请指定备份文件");
  BackupReport rep;
  rep.kind = IsSqlite(db_url) ? "sqlite" : "postgresql";
  rep.file = out;
  rep.manifest = ManifestPath(out);
  if (!force) {
    for (const auto& p : {rep.file, rep.manifest})
      if (Exists(p)) return Status::InvalidArgument("out", "文件已存在：" + p + "（如需覆盖请加 --force）");
  }
  std::error_code e1, e2;
  if (IsSqlite(db_url) && fs::weakly_canonical(db_url.substr(7), e1) == fs::weakly_canonical(out, e2) && !e1 && !e2)
    return Status::InvalidArgument("out", "备份文件不能是数据库文件本身");
  std::string tmp = out + ".part-" + std::to_string(::getpid());
  TempFiles temps;
  temps.paths = {tmp, tmp + ".manifest"};
  rep.created_at = NowIsoShanghai();
  DOUDI_RETURN_IF_ERROR(rep.kind == "sqlite" ? BackupSqlite(db_url.substr(7), tmp, &rep)
                                             : BackupPostgres(db_url, tmp, &rep));
  DOUDI_RETURN_IF_ERROR(FileDigest(tmp, &rep.size, &rep.sha256));
  nlohmann::json manifest = {
      {"format", "doudi-backup"},
      {"format_version", 1},
      {"database", rep.kind},
      {"file", fs::path(out).filename().string()},
      {"size", rep.size},
      {"sha256", rep.sha256},
      {"created_at", rep.created_at},
      {"schema_version", rep.schema_version},
      {"audit_head", {{"entries", rep.head.entries}, {"hash", rep.head.hash}}},
  };
  {
    DOUDI_RETURN_IF_ERROR(CreatePrivateFile(tmp + ".manifest"));
    std::ofstream m(tmp + ".manifest", std::ios::binary | std::ios::trunc);
    m << manifest.dump(2) << "\n";
    m.close();
    if (!m) return Status::Internal("write " + tmp + ".manifest");
  }
  // The backup first, its manifest last: a manifest names a file that is complete.
  DOUDI_RETURN_IF_ERROR(Publish(tmp, rep.file, force));
  Status s = Publish(tmp + ".manifest", rep.manifest, force);
  if (!s.ok()) {
    ::unlink(rep.file.c_str());
    return s;
  }
  return rep;
}

Result<RestoreReport> Restore(const std::string& db_url, const std::string& in, bool force, bool no_manifest) {
  if (!IsSqlite(db_url) && !IsPostgres(db_url)) return BadUrl();
  RestoreReport rep;
  rep.kind = IsSqlite(db_url) ? "sqlite" : "postgresql";
  if (!Exists(in)) return Status::InvalidArgument("in", "备份文件不存在：" + in);

  // The file against its manifest.
  nlohmann::json manifest;
  AuditHead want_head;
  if (!no_manifest) {
    std::ifstream m(ManifestPath(in), std::ios::binary);
    if (!m)
      return Status::InvalidArgument("in", "找不到备份清单 " + ManifestPath(in) +
                                               "（无法核对校验和；确认文件完好时可加 --no-manifest）");
    manifest = nlohmann::json::parse(m, nullptr, false);
    std::string kind, want_sha;
    uint64_t want_size = 0;
    try {
      if (manifest.is_discarded() || !manifest.is_object() || manifest.value("format", "") != "doudi-backup" ||
          !manifest.at("audit_head").is_object())
        return Corrupt(ManifestPath(in), "清单格式无效");
      kind = manifest.at("database").get<std::string>();
      want_sha = manifest.at("sha256").get<std::string>();
      want_size = manifest.at("size").get<uint64_t>();
      want_head.entries = manifest.at("audit_head").at("entries").get<int64_t>();
      want_head.hash = manifest.at("audit_head").at("hash").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return Corrupt(ManifestPath(in), "清单格式无效");
    }
    if (kind != rep.kind)
      return Status::InvalidArgument("db", "备份来自 " + kind + " 数据库，不能恢复到 " + rep.kind + " 数据库");
    uint64_t size = 0;
    std::string sha;
    DOUDI_RETURN_IF_ERROR(FileDigest(in, &size, &sha));
    if (size != want_size || sha != want_sha) return Corrupt(in, "大小或 SHA-256 与清单不符");
    rep.manifest_checked = true;
  }

  // An empty target only, unless --force.
  if (rep.kind == "sqlite") {
    Status error;
    bool empty = SqliteEmpty(db_url.substr(7), &error);
    if (!error.ok()) return error;
    if (!empty && !force) return Status::InvalidArgument("db", "目标数据库不是空的（如需覆盖请先停止服务并加 --force）");
    DOUDI_RETURN_IF_ERROR(RestoreSqlite(in, db_url.substr(7)));
  } else {
    DOUDI_ASSIGN_OR_RETURN(bool empty, PgEmpty(db_url));
    if (!empty && !force) return Status::InvalidArgument("db", "目标数据库不是空的（如需覆盖请先停止服务并加 --force）");
    DOUDI_RETURN_IF_ERROR(RestorePostgres(in, db_url, !empty));
  }

  // The restored chain: intact, and the one the backup held.
  DOUDI_ASSIGN_OR_RETURN(auto db, storage::Database::Open(db_url, 1));
  DOUDI_ASSIGN_OR_RETURN(auto conn, db->Acquire());
  DOUDI_ASSIGN_OR_RETURN(rep.head, HeadOf(*conn));
  DOUDI_ASSIGN_OR_RETURN(rep.verify, VerifyRestored(*conn));
  if (rep.verify.ok && rep.manifest_checked) {
    if (want_head.entries != rep.head.entries || want_head.hash != rep.head.hash) {
      rep.verify.ok = false;
      rep.verify.first_broken_id = rep.head.entries;
      rep.verify.problem = "the restored chain head (" + std::to_string(rep.head.entries) +
                           ") is not the one in the manifest (" + std::to_string(want_head.entries) + ")";
    }
  }
  return rep;
}

}  // namespace doudi::cli

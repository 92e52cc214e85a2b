// doudi: the server and the command line in one binary. main wires the command groups
// (src/cli/commands.h): each adds its subcommands, then the one given runs, in the steps the
// commands share (no database; the audit keys; backup/restore; the services; a connection).
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cli/commands.h"

namespace {

using namespace doudi::cli;

std::unique_ptr<doudi::storage::Database> OpenDb(const std::string& url, int* rc, int connections) {
  auto db = doudi::storage::Database::Open(url, connections);
  if (!db.ok()) {
    *rc = Fail(db.status());
    return nullptr;
  }
  return std::move(db).value();
}

// Every command group, added in the order of `doudi --help`.
struct Commands {
  ServeCommand serve;
  SetupCommands setup;
  UserCommands user;
  PolicyCommands policy;
  MonitoringCommands monitoring;
  AuditCommands audit;

  void Add(CLI::App& app, CommonOptions& o) {
    serve.Add(app, o);
    setup.Add(app, o);
    user.Add(app, o);
    policy.Add(app, o);
    monitoring.Add(app, o);
    audit.Add(app, o);
  }
};

// The commands over an open database: the services, then serve or a command on one connection.
int RunWithDatabase(const CommonOptions& o, Commands& c) {
  int rc = 0;
  auto db = OpenDb(o.db_url, &rc, c.serve.Connections(o.db_url));
  if (!db) return rc;
  Context ctx(*db, o.policies_dir);
  if (c.serve.Parsed()) return c.serve.Run(ctx, o);

  auto conn = db->Acquire();
  if (!conn.ok()) return Fail(conn.status());
  if (auto r = c.setup.Run(ctx, **conn, o)) return *r;
  if (auto r = c.user.Run(ctx, **conn)) return *r;
  if (auto r = c.policy.Run(ctx)) return *r;
  if (auto r = c.monitoring.Run(ctx)) return *r;
  if (auto r = c.audit.Run(**conn)) return *r;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Log times in Beijing time, like every time the county sees (China has kept +08:00 without
  // summer time since 1991: a POSIX zone, no tzdata needed), whatever the machine's zone. Set
  // before any thread starts (setenv is not thread-safe).
  setenv("TZ", "CST-8", 1);
  tzset();
  if (sodium_init() < 0) {
    std::cerr << "libsodium 初始化失败\n";
    return 1;
  }
  CLI::App app{"doudi（兜底）社会救助综合服务平台：服务器与命令行工具"};
  app.require_subcommand(1);
  CommonOptions o;
  o.data_dir = ExeDir() + "/data";
  o.policies_dir = ExeDir() + "/../policies";
  Commands c;
  c.Add(app, o);

  CLI11_PARSE(app, argc, argv);

  if (auto rc = c.policy.RunWithoutDb(o)) return *rc;
  if (auto rc = c.audit.PrepareKeys(o, c.setup.CreatesKeys(), c.serve.Parsed())) return *rc;
  if (auto rc = c.audit.RunBackupRestore(o)) return *rc;
  return RunWithDatabase(o, c);
}

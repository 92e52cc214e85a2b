// The command groups of `doudi` (main.cc only wires them). Each group adds its CLI11
// subcommands with their options (in the order `--help` shows them) and runs the one that was
// parsed: its Run returns the exit code, or nothing when none of its subcommands was given.
// Exit codes: 0 done, 1 a failure, 2 an invalid argument (`Fail`), 3 a broken audit chain.
// Messages are the operator's, in Chinese. Not thread-safe (one command per process).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "applications/applications.h"
#include "emergency/emergency.h"
#include "common/status.h"
#include "http/api.h"
#include "monitoring/monitor.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::cli {

// Options several commands bind (CLI11 binds each to one variable).
struct CommonOptions {
  std::string db_url = "sqlite:var/doudi.db";
  std::string data_dir;      // reference data (default: data/ beside the binary)
  std::string policies_dir;  // policy packs (default: ../policies from the binary)
  std::string audit_dir, anchor_dir;
};

// The directory of the running binary ("." when unknown).
std::string ExeDir();
// Prints a failed status as the command's error line; returns 2 for an invalid argument, else 1.
int Fail(const Status& s);
// `--audit-dir` and `--anchor-dir`, on each command that creates, needs or checks the keys.
void AddAuditDirOption(CLI::App* sub, std::string* dir);
void AddAnchorDirOption(CLI::App* sub, std::string* dir);

// The services over an open database, for the commands that need one (built in this order,
// each over the ones before it).
struct Context {
  Context(storage::Database& database, const std::string& policies_dir)
      : db(database), auth(db), registry(db), policy(db, registry, policies_dir),
        applications(db, registry, policy), emergency(db, registry, policy), monitor(db, registry, policy, applications) {}
  storage::Database& db;
  auth::AuthService auth;
  registry::RegistryService registry;
  policy::PolicyService policy;
  applications::ApplicationService applications;
  emergency::EmergencyService emergency;
  monitoring::MonitorService monitor;
};

// serve (commands_serve.cc).
class ServeCommand {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  bool Parsed() const { return cmd_->parsed(); }
  // The pool size for the database: the worker threads (defaulted by database here) plus
  // background work; 16 for every other command.
  int Connections(const std::string& db_url);
  int Run(Context& ctx, const CommonOptions& o);

 private:
  CLI::App* cmd_ = nullptr;
  std::string listen_ = "127.0.0.1:8080", web_dir_, tls_proxy_;
  int threads_ = 0, request_timeout_ = 30, max_connections_ = 512, max_body_memory_ = 256;
  int monitor_day_ = 1, monitor_interval_ = 3600, anchor_interval_ = 3600;
  http::PublicLimitOptions public_limits_;
  std::vector<std::string> trusted_proxies_;
  void AddTransportOptions();
  void AddPublicLimitOptions();
};

// migrate, seed-demo (commands_setup.cc).
class SetupCommands {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  bool CreatesKeys() const { return migrate_->parsed() || seed_->parsed(); }
  std::optional<int> Run(Context& ctx, storage::Connection& conn, const CommonOptions& o);

 private:
  CLI::App *migrate_ = nullptr, *seed_ = nullptr;
  std::string county_ = "370725", password_ = "Doudi@2026";
  bool json_out_ = false;
  int Migrate(storage::Connection& conn, const CommonOptions& o);
  int Seed(Context& ctx);
};

// user add|disable|enable|reset-password|reset-totp (commands_user.cc).
class UserCommands {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  std::optional<int> Run(Context& ctx, storage::Connection& conn);

 private:
  CLI::App *add_ = nullptr, *disable_ = nullptr, *enable_ = nullptr, *reset_ = nullptr, *reset_totp_ = nullptr;
  auth::NewUser new_user_;
  std::string target_user_, new_password_;
  int AddUser(Context& ctx, storage::Connection& conn);
};

// eval, policy show|check, simulate (commands_policy.cc).
class PolicyCommands {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  // eval, and policy show|check without --db: the packs alone, no database.
  std::optional<int> RunWithoutDb(const CommonOptions& o);
  std::optional<int> Run(Context& ctx);

 private:
  CLI::App *eval_ = nullptr, *policy_ = nullptr, *show_ = nullptr, *check_ = nullptr, *simulate_ = nullptr;
  std::string eval_county_, eval_date_, policy_county_, policy_date_;
  std::string sim_county_ = "370725", sim_date_;
  std::vector<std::string> sim_sets_;
  int Simulate(Context& ctx);
};

// import-feed, monitor (commands_monitoring.cc).
class MonitoringCommands {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  std::optional<int> Run(Context& ctx);

 private:
  CLI::App *import_ = nullptr, *monitor_ = nullptr;
  std::string feed_source_, feed_file_, feed_month_, feed_county_ = "370725";
  std::string monitor_month_, monitor_county_ = "370725";
  int ImportFeed(Context& ctx);
  int Monitor(Context& ctx);
};

// audit verify|anchor|keygen, backup, restore (commands_audit.cc).
class AuditCommands {
 public:
  void Add(CLI::App& app, CommonOptions& o);
  // The audit chain's keys: created where missing by migrate, seed-demo (`create`) and audit
  // keygen; required by serve (`required`), audit verify|anchor and restore; for the other
  // commands a missing key fails only a write to the chain. Ends `audit keygen` here.
  std::optional<int> PrepareKeys(const CommonOptions& o, bool create, bool required);
  // backup and restore (they open the database themselves).
  std::optional<int> RunBackupRestore(const CommonOptions& o);
  std::optional<int> Run(storage::Connection& conn);

 private:
  CLI::App *verify_ = nullptr, *anchor_ = nullptr, *keygen_ = nullptr, *backup_ = nullptr, *restore_ = nullptr;
  std::string backup_file_;
  bool backup_force_ = false, restore_no_manifest_ = false;
  void AddBackupRestore(CommonOptions& o);
  int Backup(const CommonOptions& o);
  int Restore(const CommonOptions& o);
  int Verify(storage::Connection& conn);
};

}  // namespace doudi::cli

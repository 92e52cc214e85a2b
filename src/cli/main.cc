// doudi: the server and the command line in one binary.
#include <malloc.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "audit/chain_keys.h"
#include "common/date.h"
#include "auth/auth.h"
#include "cli/backup.h"
#include "cli/demo.h"
#include "http/api.h"
#include "http/server.h"
#include "policy/service.h"
#include "monitoring/feeds.h"
#include "monitoring/monitor.h"
#include "monitoring/scheduler.h"
#include "monitoring/screening.h"
#include "registry/registry.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace {

using doudi::Status;

std::string ExeDir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

int Fail(const Status& s) {
  std::cerr << "错误：" << s.message();
  if (!s.field().empty()) std::cerr << "（" << s.field() << "）";
  if (s.code() == doudi::Code::kInternal || s.code() == doudi::Code::kUnavailable) std::cerr << "：" << s.detail();
  std::cerr << "\n";
  return s.code() == doudi::Code::kInvalidArgument ? 2 : 1;
}

std::unique_ptr<doudi::storage::Database> OpenDb(const std::string& url, int* rc, int connections = 16) {
  auto db = doudi::storage::Database::Open(url, connections);
  if (!db.ok()) {
    *rc = Fail(db.status());
    return nullptr;
  }
  return std::move(db).value();
}

// policy show / check: prints the pack (JSON) or its violations; exit 1 on an error violation.
int PrintPolicy(const doudi::policy::Pack& pack, bool show, const std::string& date_text) {
  auto date = doudi::policy::DateOrToday(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  if (show) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [key, p] : pack.params()) {
      const doudi::policy::Entry* e = pack.EntryOn(key, *date);
      if (!e) continue;
      nlohmann::json v;
      if (auto* i = std::get_if<int64_t>(&e->value)) v = *i;
      else if (auto* b = std::get_if<bool>(&e->value)) v = *b;
      else if (auto* r = std::get_if<doudi::policy::Rational>(&e->value)) v = std::stod(r->ToString());
      else if (auto* l = std::get_if<std::vector<std::string>>(&e->value)) v = *l;
      else v = std::get<std::string>(e->value);
      params[key] = {{"value", v}, {"from", e->from}, {"source", e->source}, {"cite", e->cite},
                     {"basis", e->basis}, {"label", p.label}, {"unit", doudi::policy::UnitName(p.unit)},
                     {"editable", pack.Editable(key, *date)}};
    }
    std::cout << nlohmann::json{{"county", pack.county()}, {"date", *date}, {"parameters", params}}.dump(2) << "\n";
    return 0;
  }
  auto violations = pack.Check(date_text.empty() ? std::nullopt : std::optional<std::string>(*date));
  if (!violations.ok()) return Fail(violations.status());
  int errors = 0, warnings = 0;
  for (const auto& v : *violations) {
    (v.severity == "error" ? errors : warnings)++;
    std::cout << (v.severity == "error" ? "ERROR   " : "WARNING ") << v.constraint_id << " " << v.date << " "
              << v.message << "（" << v.detail << "；" << v.cite << "）\n";
  }
  std::cout << pack.county() << " " << pack.name() << "：" << pack.constraints().size() << " 条约束，" << errors
            << " 项错误，" << warnings << " 项警告\n";
  return errors ? 1 : 0;
}

int RunPolicyWithoutDb(bool eval, bool show, const std::string& county, const std::string& date_text,
                       const std::string& dir) {
  auto pack = doudi::policy::Pack::Load(dir, county);
  if (!pack.ok()) return Fail(pack.status());
  if (!eval) return PrintPolicy(**pack, show, date_text);
  auto date = doudi::policy::DateOrToday(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  nlohmann::json j = nlohmann::json::parse(input, nullptr, false);
  if (j.is_discarded()) return Fail(Status::InvalidArgument("", "标准输入不是有效的 JSON"));
  auto facts = doudi::policy::FactsFromJson(j);
  if (!facts.ok()) return Fail(facts.status());
  auto params = doudi::policy::ResolveParams(**pack, *date);
  if (!params.ok()) return Fail(params.status());
  doudi::policy::Explain explain;
  auto d = doudi::policy::Evaluate(*facts, *params, &explain);
  if (!d.ok()) return Fail(d.status());
  std::cout << doudi::policy::ToJson(*facts, *params, *d, &explain).dump(2) << "\n";
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
  std::string db_url = "sqlite:var/doudi.db";
  std::string data_dir = ExeDir() + "/data";
  std::string policies_dir = ExeDir() + "/../policies";

  // serve
  auto* serve = app.add_subcommand("serve", "启动 HTTP 服务");
  std::string listen = "127.0.0.1:8080";
  std::string web_dir = ExeDir() + "/../web/dist";
  int threads = 0;
  serve->add_option("--db", db_url, "数据库地址：sqlite:路径 或 postgresql://用户:密码@主机:端口/库名")
      ->capture_default_str();
  serve->add_option("--listen", listen, "监听地址 HOST:PORT")->capture_default_str();
  serve->add_option("--web", web_dir, "前端构建目录（web/dist）");
  serve->add_option("--threads", threads, "工作线程数（默认 SQLite 8，PostgreSQL 4）")->check(CLI::Range(1, 64));
  serve->add_option("--policies", policies_dir, "政策参数包目录（policies/）");
  int request_timeout = 30;
  serve->add_option("--timeout", request_timeout,
                    "请求超时（秒）：读取请求头、保持连接空闲的上限；读取请求体与发送响应各为其 4 倍")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  // Transport limits and the TLS proxy (issue 17).
  int max_connections = 512, max_body_memory = 256;
  std::string tls_proxy;
  serve->add_option("--max-connections", max_connections,
                    "同时保持的连接数上限（超出的新连接答复 503；不超过打开文件数上限的一半）")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve->add_option("--max-body-memory", max_body_memory,
                    "所有连接正在接收的请求体合计内存上限（MiB；超出时答复 503）")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  serve->add_option("--tls-proxy", tls_proxy,
                    "在前面终止 TLS 的反向代理的地址：会话 Cookie 加 Secure、响应加 HSTS，"
                    "仅来自该地址的请求采用 X-Forwarded-For 作为客户端地址");
  int monitor_day = 1, monitor_interval = 3600;
  serve->add_option("--monitor-day", monitor_day,
                    "每月第几日起自动运行上月动态监测比对（0 表示不自动运行）")
      ->check(CLI::Range(0, 28))
      ->capture_default_str();
  serve->add_option("--monitor-interval", monitor_interval, "自动比对检查间隔（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();

  // serve: the public routes' rate limits (issue 17 #1, #11; docs/api.md "Public")
  doudi::http::PublicLimitOptions public_limits;
  serve->add_option("--public-lookup-failures", public_limits.lookup_failures_per_case,
                    "进度查询：同一案号在一个时段内允许的失败次数，超过则暂停查询")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  serve->add_option("--public-lookup-failures-per-address", public_limits.lookup_failures_per_address,
                    "进度查询：同一客户端地址在一个时段内允许的失败次数（各案号合计）")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  serve->add_option("--public-lookup-window", public_limits.lookup_window_seconds, "进度查询失败计数的时段（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve->add_option("--public-submits-per-address", public_limits.submits_per_address,
                    "网上申请：同一客户端地址在一个时段内允许提交的件数")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  serve->add_option("--public-submits-total", public_limits.submits_total, "网上申请：一个时段内全部客户端合计允许提交的件数")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  serve->add_option("--public-submit-window", public_limits.submit_window_seconds, "网上申请计数的时段（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  std::vector<std::string> trusted_proxies;
  serve->add_option("--trusted-proxy", trusted_proxies,
                    "反向代理的地址（可重复）：来自这些地址的请求以 X-Forwarded-For 的最后一个地址作为客户端地址（用于限流）");

  // migrate
  auto* migrate = app.add_subcommand("migrate", "创建或升级数据库结构，并载入区划与节假日参考数据");
  migrate->add_option("--db", db_url, "数据库地址")->required();
  migrate->add_option("--data", data_dir, "参考数据目录（由 make build 生成）");

  // seed-demo
  auto* seed = app.add_subcommand("seed-demo", "写入演示县的账号与家庭");
  std::string county = "370725", password = "Doudi@2026";
  bool json_out = false;
  seed->add_option("--db", db_url, "数据库地址")->required();
  seed->add_option("--county", county, "县级区划代码")->capture_default_str();
  seed->add_option("--password", password, "演示账号的统一密码（仅首次创建时使用）")->capture_default_str();
  seed->add_flag("--json", json_out, "以 JSON 输出演示账号");
  seed->add_option("--policies", policies_dir, "政策参数包目录");

  // user add|disable|enable|reset-password
  auto* user = app.add_subcommand("user", "管理用户账号");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "新增用户");
  doudi::auth::NewUser nu;
  user_add->add_option("--db", db_url, "数据库地址")->required();
  user_add->add_option("--username", nu.username, "用户名")->required();
  user_add->add_option("--password", nu.password, "密码（至少10位，含大写字母、小写字母、数字、符号中的三类）")->required();
  user_add->add_option("--name", nu.display_name, "姓名")->required();
  user_add->add_option("--role", nu.role,
                       "角色：county_admin county_reviewer town_clerk town_reviewer village_assistant "
                       "department_liaison supervisor auditor")
      ->required();
  user_add->add_option("--region", nu.region_code, "所属区划代码")->required();
  user_add->add_option("--department", nu.department, "部门（部门联络员）");
  std::string target_user, new_password;
  auto* user_disable = user->add_subcommand("disable", "停用用户");
  user_disable->add_option("--db", db_url, "数据库地址")->required();
  user_disable->add_option("username", target_user, "用户名")->required();
  auto* user_enable = user->add_subcommand("enable", "启用用户");
  user_enable->add_option("--db", db_url, "数据库地址")->required();
  user_enable->add_option("username", target_user, "用户名")->required();
  auto* user_reset = user->add_subcommand("reset-password", "重置密码并解除锁定");
  user_reset->add_option("--db", db_url, "数据库地址")->required();
  user_reset->add_option("username", target_user, "用户名")->required();
  user_reset->add_option("--password", new_password, "新密码")->required();
  // user reset-totp: a lost phone; the user enrols a new second factor at next login
  auto* user_reset_totp = user->add_subcommand("reset-totp", "解除动态验证码绑定（用户下次登录时重新绑定）");
  user_reset_totp->add_option("--db", db_url, "数据库地址")->required();
  user_reset_totp->add_option("username", target_user, "用户名")->required();

  // eval
  auto* eval = app.add_subcommand("eval", "从标准输入读入一户家庭（JSON），输出各项救助的认定结果（JSON）");
  std::string eval_county, eval_date;
  eval->add_option("--county", eval_county, "县级区划代码")->required();
  eval->add_option("--date", eval_date, "认定日期 YYYY-MM-DD（默认今天）");
  eval->add_option("--policies", policies_dir, "政策参数包目录");

  // policy show|check
  auto* policy_cmd = app.add_subcommand("policy", "政策参数包");
  policy_cmd->require_subcommand(1);
  auto* policy_show = policy_cmd->add_subcommand("show", "以 JSON 输出某日生效的全部参数（含出处）");
  auto* policy_check = policy_cmd->add_subcommand("check", "按县级文件的数值约束校验参数包，逐条列出违反项");
  std::string policy_county, policy_date;
  for (auto* sub : {policy_show, policy_check}) {
    sub->add_option("--county", policy_county, "县级区划代码")->required();
    sub->add_option("--date", policy_date, "日期 YYYY-MM-DD");
    sub->add_option("--policies", policies_dir, "政策参数包目录");
    sub->add_option("--db", db_url, "数据库地址（含管理员修改的参数；可省略）");
  }

  // simulate
  auto* simulate = app.add_subcommand("simulate", "模拟政策参数调整：重新测算全县家庭，按镇街汇总");
  std::string sim_county = "370725", sim_date;
  std::vector<std::string> sim_sets;
  simulate->add_option("--db", db_url, "数据库地址")->required();
  simulate->add_option("--county", sim_county, "县级区划代码");
  simulate->add_option("--date", sim_date, "测算日期 YYYY-MM-DD（默认今天）");
  simulate->add_option("--set", sim_sets, "参数=新值，可重复")->required();
  simulate->add_option("--policies", policies_dir, "政策参数包目录");

  // import-feed
  auto* import_feed = app.add_subcommand("import-feed", "导入部门比对数据（CSV，UTF-8 或 GB18030）");
  std::string feed_source, feed_file, feed_month, feed_county = "370725";
  import_feed->add_option("--db", db_url, "数据库地址")->required();
  import_feed->add_option("--source", feed_source, "数据来源（见 docs/feeds.md）：death vehicle wage medical …")->required();
  import_feed->add_option("--month", feed_month, "所属月份 YYYY-MM（默认本月）");
  import_feed->add_option("--county", feed_county, "县级区划代码");
  import_feed->add_option("--policies", policies_dir, "政策参数包目录");
  import_feed->add_option("file", feed_file, "CSV 文件")->required();

  // monitor
  auto* monitor_cmd = app.add_subcommand("monitor", "运行月度动态监测比对，生成预警");
  std::string monitor_month, monitor_county = "370725";
  monitor_cmd->add_option("--db", db_url, "数据库地址")->required();
  monitor_cmd->add_option("--month", monitor_month, "月份 YYYY-MM（默认本月）");
  monitor_cmd->add_option("--county", monitor_county, "县级区划代码");
  monitor_cmd->add_option("--policies", policies_dir, "政策参数包目录");

  // audit verify|anchor|keygen; --audit-dir (the chain's keys, see src/audit/chain_keys.h) on
  // the commands that create, need or check them; others use $DOUDI_AUDIT_DIR or the default.
  auto* audit_cmd = app.add_subcommand("audit", "审计链");
  audit_cmd->require_subcommand(1);
  auto* verify = audit_cmd->add_subcommand("verify", "校验审计链与读取日志链是否完整，并与每个锚点核对");
  verify->add_option("--db", db_url, "数据库地址")->required();
  auto* anchor_cmd = audit_cmd->add_subcommand("anchor", "立即写入一个签名锚点（两条链当前的末条编号与哈希）");
  anchor_cmd->add_option("--db", db_url, "数据库地址")->required();
  auto* keygen = audit_cmd->add_subcommand("keygen", "生成缺少的审计密钥文件（已有的不改动）");
  keygen->add_option("--db", db_url, "数据库地址（决定默认密钥目录）");
  std::string audit_dir, anchor_dir;
  int anchor_interval = 3600;
  auto* backup_cmd = app.add_subcommand("backup", "备份数据库（SQLite 在线备份，PostgreSQL 用 pg_dump），并写出清单");
  auto* restore_cmd = app.add_subcommand("restore", "从备份恢复到空数据库，并校验审计链");
  for (auto* sub : {serve, migrate, seed, verify, anchor_cmd, keygen, restore_cmd})
    sub->add_option("--audit-dir", audit_dir,
                    "审计密钥目录（默认：环境变量 DOUDI_AUDIT_DIR；SQLite 为数据库文件旁的 <文件>.audit，"
                    "PostgreSQL 为 var/audit/<库名>）");
  for (auto* sub : {serve, verify, anchor_cmd, restore_cmd})
    sub->add_option("--anchor-dir", anchor_dir, "锚点目录（默认：密钥目录下的 anchors）");
  serve->add_option("--anchor-interval", anchor_interval, "检查当日锚点是否已写入的间隔（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();

  // backup / restore (restore verifies the chain with the audit keys: --audit-dir of the original)
  std::string backup_file;
  bool backup_force = false, restore_no_manifest = false;
  backup_cmd->add_option("--db", db_url, "数据库地址")->required();
  backup_cmd->add_option("--out", backup_file, "备份文件（另写 文件.manifest.json 清单）")->required();
  backup_cmd->add_flag("--force", backup_force, "覆盖已存在的备份文件");
  restore_cmd->add_option("--db", db_url, "目标数据库地址（应为空库）")->required();
  restore_cmd->add_option("--in", backup_file, "备份文件（旁边应有 文件.manifest.json）")->required();
  restore_cmd->add_flag("--force", backup_force, "目标库不是空的也恢复（先停止服务）");
  restore_cmd->add_flag("--no-manifest", restore_no_manifest, "没有清单时也恢复（不核对校验和）");

  CLI11_PARSE(app, argc, argv);

  if (eval->parsed() || (policy_cmd->parsed() && policy_show->get_option("--db")->count() == 0 &&
                        policy_check->get_option("--db")->count() == 0))
    return RunPolicyWithoutDb(eval->parsed(), policy_show->parsed(), eval_county.empty() ? policy_county : eval_county,
                              eval_date.empty() ? policy_date : eval_date, policies_dir);

  // The audit chain's keys: created where missing by migrate, seed-demo and audit keygen;
  // required by serve and by audit verify|anchor; for the other commands a missing key fails
  // only a write to the chain.
  {
    const std::string key_dir = audit_dir.empty() ? doudi::audit::DefaultAuditDir(db_url) : audit_dir;
    if (*migrate || *seed || *keygen) {
      bool created = false;
      Status s = doudi::audit::CreateKeysIfMissing(key_dir, &created);
      if (!s.ok()) return Fail(s);
      if (created) std::cerr << "已生成审计密钥：" << key_dir << "（请妥善备份，并离机保存锚点）\n";
    }
    auto keys = doudi::audit::LoadKeys(key_dir, anchor_dir);
    if (keys.ok()) doudi::audit::UseKeys(*keys);
    else if (*serve || *verify || *anchor_cmd || *keygen || *restore_cmd) return Fail(keys.status());
    if (*keygen) {
      std::cout << "审计密钥目录：" << key_dir << "\n";
      return 0;
    }
  }

  if (*backup_cmd) {
    auto rep = doudi::cli::Backup(db_url, backup_file, backup_force);
    if (!rep.ok()) return Fail(rep.status());
    std::cout << "已备份 " << rep->kind << " 数据库到 " << rep->file << "\n"
              << "  大小：" << rep->size << " 字节\n"
              << "  SHA-256：" << rep->sha256 << "\n"
              << "  审计链头：第 " << rep->head.entries << " 条，哈希 " << rep->head.hash << "\n"
              << "  结构版本：" << rep->schema_version << "\n"
              << "  清单：" << rep->manifest << "\n";
    return 0;
  }
  if (*restore_cmd) {
    auto rep = doudi::cli::Restore(db_url, backup_file, backup_force, restore_no_manifest);
    if (!rep.ok()) return Fail(rep.status());
    std::cout << "已从 " << backup_file << " 恢复 " << rep->kind << " 数据库"
              << (rep->manifest_checked ? "（文件与清单的 SHA-256 一致）" : "（未核对清单）") << "\n";
    if (rep->verify.ok) {
      std::cout << "审计链完整：共 " << rep->verify.entries << " 条，链头哈希 " << rep->head.hash << "\n";
      return 0;
    }
    std::cout << "审计链校验失败：第 " << rep->verify.first_broken_id << " 条（" << rep->verify.problem << "）\n";
    return 3;
  }

  int rc = 0;
  // Handlers no longer hold a thread while they wait for the read log's commit or the
  // household cache's poll, so few threads suffice; on PostgreSQL more of them only add
  // switching between them and the database's processes on the same cores (bench/api on two
  // cores: 4 threads ~10–20% ahead of 8, 32 behind both; SQLite: 4 and 8 alike). Each
  // thread can hold a pooled connection; background work (read log, jobs, schedule) takes a
  // few more.
  if (threads == 0) threads = db_url.rfind("sqlite:", 0) == 0 ? 8 : 4;
  auto db = OpenDb(db_url, &rc, *serve ? threads + 8 : 16);
  if (!db) return rc;
  doudi::auth::AuthService auth(*db);
  doudi::registry::RegistryService registry(*db);
  doudi::policy::PolicyService policy(*db, registry, policies_dir);
  doudi::applications::ApplicationService applications(*db, registry, policy);
  doudi::monitoring::MonitorService monitor(*db, registry, policy, applications);

  if (*serve) {
    // glibc gives freed memory at the top of a thread's heap back at once and maps it again
    // for the next request (an mprotect per request under load); keep up to 64 MB instead.
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return Fail(Status::InvalidArgument("listen", "应为 HOST:PORT"));
    doudi::http::ServerOptions opts;
    opts.host = listen.substr(0, colon);
    try {
      int port = std::stoi(listen.substr(colon + 1));
      if (port <= 0 || port > 65535) throw std::out_of_range("port");
      opts.port = static_cast<unsigned short>(port);
    } catch (...) {
      return Fail(Status::InvalidArgument("listen", "端口无效"));
    }
    opts.threads = threads;
    opts.timeout_seconds = request_timeout;
    opts.trusted_proxies = trusted_proxies;
    opts.max_connections = max_connections;
    opts.body_memory = static_cast<size_t>(max_body_memory) << 20;
    opts.tls_proxy = tls_proxy;
    {
      auto conn = db->Acquire();
      if (!conn.ok()) return Fail(conn.status());
      Status current = doudi::storage::CheckSchemaCurrent(**conn);
      if (!current.ok()) return Fail(current);
      current = doudi::audit::CheckKeyMatchesChain(**conn);
      if (!current.ok()) return Fail(current);
    }
    auth.PrepareDecoy();  // the unknown-name decoy hash, before the first login
    doudi::http::Router router(auth);
    if (std::filesystem::exists(web_dir + "/index.html")) router.SetStaticDir(web_dir);
    else spdlog::warn("web app not found in {}: serving the API only", web_dir);
    doudi::monitoring::ScreeningService screening(*db);
    doudi::http::Jobs jobs;
    doudi::http::Services services{*db, auth, registry, policy, applications, monitor, screening, jobs};
    services.public_limits = public_limits;
    doudi::http::RegisterApi(router, services);
    spdlog::info("database: {}", db->kind());
    doudi::monitoring::MonthlyScheduler scheduler(*db, monitor, monitor_day, monitor_interval);
    scheduler.Start();
    doudi::audit::AnchorScheduler anchors(*db, anchor_interval, [](const std::string& m) { spdlog::info("{}", m); });
    anchors.Start();
    Status s = doudi::http::RunServer(opts, router);
    // In-flight jobs finish (each is one transaction) before the process ends.
    anchors.Stop();
    scheduler.Stop();
    jobs.JoinAll();
    return s.ok() ? 0 : Fail(s);
  }

  auto conn = db->Acquire();
  if (!conn.ok()) return Fail(conn.status());

  if (*migrate) {
    int applied = 0;
    Status s = doudi::storage::Migrate(**conn, &applied);
    if (!s.ok()) return Fail(s);
    s = doudi::storage::LoadReferenceData(**conn, data_dir);
    if (!s.ok()) return Fail(s);
    auto sealed = doudi::audit::SealChain(**conn);
    if (!sealed.ok()) return Fail(sealed.status());
    std::cout << "数据库已是最新结构（本次应用 " << applied << " 个迁移），区划与节假日数据已载入\n";
    if (sealed->rekeyed)
      std::cout << "审计链已改用密钥计算：" << sealed->entries << " 条审计记录、" << sealed->reads << " 条读取记录\n";
    return 0;
  }
  if (*seed) {
    doudi::cli::SeedReport report;
    doudi::emergency::EmergencyService emergency(*db, registry, policy);
    auto users = doudi::cli::SeedDemo(*db, auth, registry, emergency, county, password, &report);
    if (!users.ok()) return Fail(users.status());
    if (json_out) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& u : *users) {
        nlohmann::json j = {{"username", u.username}, {"role", u.role}, {"region_code", u.region_code}};
        if (!u.totp_secret.empty()) {
          j["totp_secret"] = u.totp_secret;
          j["otpauth_uri"] = "otpauth://totp/doudi:" + u.username + "?secret=" + u.totp_secret +
                             "&issuer=doudi&algorithm=SHA1&digits=6&period=30";
        }
        arr.push_back(std::move(j));
      }
      std::cout << nlohmann::json{{"users", arr}}.dump() << "\n";
    } else {
      if (report.password_works)
        std::cout << "演示账号（密码均为 " << password << "）：\n";
      else  // seeded before with another password (or reset since): not `password`
        std::cout << "演示账号已存在，密码未改动（仍为首次创建时的密码，或用 user reset-password 重设）：\n";
      for (const auto& u : *users)
        std::cout << "  " << u.username << "\t" << u.role << "\t" << u.region_code << "\t" << u.display_name << "\n";
      bool any_totp = false;
      for (const auto& u : *users) {
        if (u.totp_secret.empty()) continue;
        if (!any_totp)
          std::cout << "县级管理员和审计员登录还需动态验证码（TOTP）：请在手机验证器（如 Google Authenticator、"
                       "腾讯身份验证器）中添加以下密钥或链接：\n";
        any_totp = true;
        std::cout << "  " << u.username << "\t密钥 " << u.totp_secret << "\totpauth://totp/doudi:" << u.username
                  << "?secret=" << u.totp_secret << "&issuer=doudi&algorithm=SHA1&digits=6&period=30\n";
      }
    }
    return 0;
  }
  if (*user_add) {
    doudi::storage::Transaction tx(**conn, true);
    auto u = auth.CreateUserUnchecked(**conn, nu);
    if (!u.ok()) return Fail(u.status());
    Status s = doudi::audit::RecordWrite(**conn, {0, "system"},
                                         {"user.create", "user", std::to_string(u->id), u->region_code, "null",
                                          nlohmann::json{{"username", u->username}, {"role", nu.role}}.dump()});
    if (!s.ok()) return Fail(s);
    s = tx.Commit();
    if (!s.ok()) return Fail(s);
    std::cout << "已创建用户 " << u->username << "（首次登录时须修改密码）\n";
    return 0;
  }
  if (*user_disable || *user_enable) {
    Status s = auth.SetDisabledUnchecked(target_user, static_cast<bool>(*user_disable));
    if (!s.ok()) return Fail(s);
    std::cout << (*user_disable ? "已停用 " : "已启用 ") << target_user << "\n";
    return 0;
  }
  if (*user_reset) {
    Status s = auth.ResetPasswordUnchecked(target_user, new_password);
    if (!s.ok()) return Fail(s);
    std::cout << "已重置 " << target_user << " 的密码（用户下次登录时须修改密码）\n";
    return 0;
  }
  if (*user_reset_totp) {
    Status s = auth.ResetTotpUnchecked(target_user);
    if (!s.ok()) return Fail(s);
    std::cout << "已解除 " << target_user << " 的动态验证码绑定\n";
    return 0;
  }
  if (*policy_cmd) {
    auto pack = policy.PackFor(policy_county);
    if (!pack.ok()) return Fail(pack.status());
    return PrintPolicy(**pack, policy_show->parsed(), policy_date);
  }
  if (*simulate) {
    auto date = doudi::policy::DateOrToday(sim_date, "date");
    if (!date.ok()) return Fail(date.status());
    std::vector<doudi::policy::SimulationChange> changes;
    for (const auto& kv : sim_sets) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) return Fail(Status::InvalidArgument("set", "应为 参数=新值：" + kv));
      changes.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
    }
    auto out = policy.Simulate(sim_county, *date, changes);
    if (!out.ok()) return Fail(out.status());
    std::cout << out->dump(2) << "\n";
    return 0;
  }
  if (import_feed->parsed()) {
    std::ifstream in(feed_file, std::ios::binary);
    if (!in) return Fail(Status::InvalidArgument("file", "无法读取文件：" + feed_file));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string month = feed_month.empty() ? doudi::TodayShanghai().substr(0, 7) : feed_month;
    auto rep = doudi::monitoring::ImportFeed(*db, {0, "system"}, feed_county, feed_source, month,
                                             std::filesystem::path(feed_file).filename().string(), bytes,
                                             [](uint64_t rows) { std::cerr << "已读取 " << rows << " 行\n"; });
    if (!rep.ok()) return Fail(rep.status());
    if (rep->already_imported) {
      std::cout << "该文件已导入过（文件编号 " << rep->file_id << "），未作任何修改\n";
      return 0;
    }
    for (const auto& p : rep->problems)
      std::cerr << feed_file << ":" << p.line << ": " << p.field << ": " << p.message << "\n";
    std::cout << "已导入 " << rep->imported << " 行，" << rep->invalid << " 行有误未导入（编码 " << rep->encoding
              << "，文件编号 " << rep->file_id << "）\n";
    return 0;
  }
  if (monitor_cmd->parsed()) {
    std::string month = monitor_month.empty() ? doudi::TodayShanghai().substr(0, 7) : monitor_month;
    auto rep = monitor.Run({0, "system"}, monitor_county, month, [](const std::string& step, uint64_t done, uint64_t total) {
      std::cerr << step << "：" << done << "/" << total << "\n";
    });
    if (!rep.ok()) return Fail(rep.status());
    std::cout << doudi::monitoring::ToJson(*rep).dump(2) << "\n";
    return 0;
  }
  if (*verify) {
    auto rep = doudi::audit::Verify(**conn);
    if (!rep.ok()) return Fail(rep.status());
    if (rep->ok) {
      std::cout << "审计链完整：共 " << rep->entries << " 条；读取日志链完整：共 " << rep->reads << " 条；已核对 "
                << rep->anchors << " 个锚点\n";
      return 0;
    }
    if (rep->first_broken_id != 0)
      std::cout << "审计链已损坏：第 " << rep->first_broken_id << " 条（" << rep->problem << "）\n";
    if (rep->first_broken_read_id != 0)
      std::cout << "读取日志链已损坏：第 " << rep->first_broken_read_id << " 条（" << rep->problem << "）\n";
    if (rep->first_broken_id == 0 && rep->first_broken_read_id == 0)
      std::cout << "审计链校验未通过（" << rep->problem << "）\n";
    return 3;
  }
  if (*anchor_cmd) {
    auto path = doudi::audit::WriteAnchor(**conn);
    if (!path.ok()) return Fail(path.status());
    std::cout << "已写入锚点：" << *path << "\n";
    return 0;
  }
  return 0;
}

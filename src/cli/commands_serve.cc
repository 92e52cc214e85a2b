// `doudi serve`: the HTTP server with its background work (monthly runs, daily anchors).
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "audit/audit_log.h"
#include "audit/chain_keys.h"
#include "cli/commands.h"
#include "http/server.h"
#include "monitoring/scheduler.h"
#include "monitoring/screening.h"
#include "storage/migrations.h"

namespace doudi::cli {
namespace {

// HOST:PORT into the server's options.
Status ParseListen(const std::string& listen, http::ServerOptions* opts) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("listen", "应为 HOST:PORT");
  opts->host = listen.substr(0, colon);
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port <= 0 || port > 65535) throw std::out_of_range("port");
    opts->port = static_cast<unsigned short>(port);
  } catch (...) {
    return Status::InvalidArgument("listen", "端口无效");
  }
  return Status::Ok();
}

// The server starts only on a current schema and with the key that made the audit chain.
Status CheckDatabaseReady(storage::Database& db) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  DOUDI_RETURN_IF_ERROR(storage::CheckSchemaCurrent(*conn));
  return audit::CheckKeyMatchesChain(*conn);
}

}  // namespace

void ServeCommand::Add(CLI::App& app, CommonOptions& o) {
  cmd_ = app.add_subcommand("serve", "启动 HTTP 服务");
  web_dir_ = ExeDir() + "/../web/dist";
  cmd_->add_option("--db", o.db_url, "数据库地址：sqlite:路径 或 postgresql://用户:密码@主机:端口/库名")
      ->capture_default_str();
  cmd_->add_option("--listen", listen_, "监听地址 HOST:PORT")->capture_default_str();
  cmd_->add_option("--web", web_dir_, "前端构建目录（web/dist）");
  cmd_->add_option("--threads", threads_, "工作线程数（默认 SQLite 8，PostgreSQL 4）")->check(CLI::Range(1, 64));
  cmd_->add_option("--policies", o.policies_dir, "政策参数包目录（policies/）");
  cmd_->add_option("--timeout", request_timeout_,
                   "请求超时（秒）：读取请求头、保持连接空闲的上限；读取请求体与发送响应各为其 4 倍")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  AddTransportOptions();
  cmd_->add_option("--monitor-day", monitor_day_, "每月第几日起自动运行上月动态监测比对（0 表示不自动运行）")
      ->check(CLI::Range(0, 28))
      ->capture_default_str();
  cmd_->add_option("--monitor-interval", monitor_interval_, "自动比对检查间隔（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  AddPublicLimitOptions();
  cmd_->add_option("--trusted-proxy", trusted_proxies_,
                   "反向代理的地址（可重复）：来自这些地址的请求以 X-Forwarded-For 的最后一个地址作为客户端地址（用于限流）");
  AddAuditDirOption(cmd_, &o.audit_dir);
  AddAnchorDirOption(cmd_, &o.anchor_dir);
  cmd_->add_option("--anchor-interval", anchor_interval_, "检查当日锚点是否已写入的间隔（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
}

// Transport limits and the TLS proxy (issue 17).
void ServeCommand::AddTransportOptions() {
  cmd_->add_option("--max-connections", max_connections_,
                   "同时保持的连接数上限（超出的新连接答复 503；不超过打开文件数上限的一半）")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd_->add_option("--max-body-memory", max_body_memory_, "所有连接正在接收的请求体合计内存上限（MiB；超出时答复 503）")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd_->add_option("--tls-proxy", tls_proxy_,
                   "在前面终止 TLS 的反向代理的地址：会话 Cookie 加 Secure、响应加 HSTS，"
                   "仅来自该地址的请求采用 X-Forwarded-For 作为客户端地址");
}

// The public routes' rate limits (issue 17 #1, #11; docs/api.md "Public").
void ServeCommand::AddPublicLimitOptions() {
  auto& l = public_limits_;
  cmd_->add_option("--public-lookup-failures", l.lookup_failures_per_case,
                   "进度查询：同一案号在一个时段内允许的失败次数，超过则暂停查询")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd_->add_option("--public-lookup-failures-per-address", l.lookup_failures_per_address,
                   "进度查询：同一客户端地址在一个时段内允许的失败次数（各案号合计）")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd_->add_option("--public-lookup-window", l.lookup_window_seconds, "进度查询失败计数的时段（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd_->add_option("--public-submits-per-address", l.submits_per_address,
                   "网上申请：同一客户端地址在一个时段内允许提交的件数")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd_->add_option("--public-submits-total", l.submits_total, "网上申请：一个时段内全部客户端合计允许提交的件数")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd_->add_option("--public-submit-window", l.submit_window_seconds, "网上申请计数的时段（秒）")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
}

int ServeCommand::Connections(const std::string& db_url) {
  // Handlers no longer hold a thread while they wait for the read log's commit or the
  // household cache's poll, so few threads suffice; on PostgreSQL more of them only add
  // switching between them and the database's processes on the same cores (bench/api on two
  // cores: 4 threads ~10–20% ahead of 8, 32 behind both; SQLite: 4 and 8 alike). Each
  // thread can hold a pooled connection; background work (read log, jobs, schedule) takes a
  // few more.
  if (threads_ == 0) threads_ = db_url.rfind("sqlite:", 0) == 0 ? 8 : 4;
  return Parsed() ? threads_ + 8 : 16;
}

int ServeCommand::Run(Context& ctx, const CommonOptions& o) {
  // glibc gives freed memory at the top of a thread's heap back at once and maps it again
  // for the next request (an mprotect per request under load); keep up to 64 MB instead.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  http::ServerOptions opts;
  Status s = ParseListen(listen_, &opts);
  if (!s.ok()) return Fail(s);
  opts.threads = threads_;
  opts.timeout_seconds = request_timeout_;
  opts.trusted_proxies = trusted_proxies_;
  opts.max_connections = max_connections_;
  opts.body_memory = static_cast<size_t>(max_body_memory_) << 20;
  opts.tls_proxy = tls_proxy_;
  s = CheckDatabaseReady(ctx.db);
  if (!s.ok()) return Fail(s);
  ctx.auth.PrepareDecoy();  // the unknown-name decoy hash, before the first login
  http::Router router(ctx.auth);
  if (std::filesystem::exists(web_dir_ + "/index.html")) router.SetStaticDir(web_dir_);
  else spdlog::warn("web app not found in {}: serving the API only", web_dir_);
  monitoring::ScreeningService screening(ctx.db);
  http::Jobs jobs;
  http::Services services{ctx.db, ctx.auth, ctx.registry, ctx.policy, ctx.applications, ctx.monitor, screening, jobs};
  services.public_limits = public_limits_;
  http::RegisterApi(router, services);
  spdlog::info("database: {}", ctx.db.kind());
  monitoring::MonthlyScheduler scheduler(ctx.db, ctx.monitor, monitor_day_, monitor_interval_);
  scheduler.Start();
  audit::AnchorScheduler anchors(ctx.db, anchor_interval_, [](const std::string& m) { spdlog::info("{}", m); });
  anchors.Start();
  s = http::RunServer(opts, router);
  // In-flight jobs finish (each is one transaction) before the process ends.
  anchors.Stop();
  scheduler.Stop();
  jobs.JoinAll();
  return s.ok() ? 0 : Fail(s);
}

}  // namespace doudi::cli

// doudi: the server and the command line in one binary.
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "auth/auth.h"
#include "cli/demo.h"
#include "http/api.h"
#include "http/server.h"
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
  if (s.code() == doudi::Code::kInternal) std::cerr << "：" << s.detail();
  std::cerr << "\n";
  return s.code() == doudi::Code::kInvalidArgument ? 2 : 1;
}

std::unique_ptr<doudi::storage::Database> OpenDb(const std::string& url, int* rc) {
  auto db = doudi::storage::Database::Open(url);
  if (!db.ok()) {
    *rc = Fail(db.status());
    return nullptr;
  }
  return std::move(db).value();
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "libsodium 初始化失败\n";
    return 1;
  }
  CLI::App app{"doudi（兜底）社会救助综合服务平台：服务器与命令行工具"};
  app.require_subcommand(1);
  std::string db_url = "sqlite:var/doudi.db";
  std::string data_dir = ExeDir() + "/data";

  // serve
  auto* serve = app.add_subcommand("serve", "启动 HTTP 服务");
  std::string listen = "127.0.0.1:8080";
  std::string web_dir = ExeDir() + "/../web/dist";
  int threads = 8;
  serve->add_option("--db", db_url, "数据库地址：sqlite:路径 或 postgresql://用户:密码@主机:端口/库名");
  serve->add_option("--listen", listen, "监听地址 HOST:PORT");
  serve->add_option("--web", web_dir, "前端构建目录（web/dist）");
  serve->add_option("--threads", threads, "工作线程数")->check(CLI::Range(1, 64));

  // migrate
  auto* migrate = app.add_subcommand("migrate", "创建或升级数据库结构，并载入区划与节假日参考数据");
  migrate->add_option("--db", db_url, "数据库地址")->required();
  migrate->add_option("--data", data_dir, "参考数据目录（由 make build 生成）");

  // seed-demo
  auto* seed = app.add_subcommand("seed-demo", "写入演示县的账号与家庭");
  std::string county = "370725", password = "Doudi@2026";
  bool json_out = false;
  seed->add_option("--db", db_url, "数据库地址")->required();
  seed->add_option("--county", county, "县级区划代码");
  seed->add_option("--password", password, "演示账号的统一密码");
  seed->add_flag("--json", json_out, "以 JSON 输出演示账号");

  // user add|disable|enable|reset-password
  auto* user = app.add_subcommand("user", "管理用户账号");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "新增用户");
  doudi::auth::NewUser nu;
  user_add->add_option("--db", db_url, "数据库地址")->required();
  user_add->add_option("--username", nu.username, "用户名")->required();
  user_add->add_option("--password", nu.password, "密码（至少10位，含字母和数字）")->required();
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

  // audit verify
  auto* audit_cmd = app.add_subcommand("audit", "审计链");
  audit_cmd->require_subcommand(1);
  auto* verify = audit_cmd->add_subcommand("verify", "校验审计哈希链是否完整");
  verify->add_option("--db", db_url, "数据库地址")->required();

  CLI11_PARSE(app, argc, argv);

  int rc = 0;
  auto db = OpenDb(db_url, &rc);
  if (!db) return rc;
  doudi::auth::AuthService auth(*db);
  doudi::registry::RegistryService registry(*db);

  if (*serve) {
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
    doudi::http::Router router(auth);
    if (std::filesystem::exists(web_dir + "/index.html")) router.SetStaticDir(web_dir);
    else spdlog::warn("web app not found in {}: serving the API only", web_dir);
    doudi::http::Services services{*db, auth, registry};
    doudi::http::RegisterApi(router, services);
    spdlog::info("database: {}", db->kind());
    Status s = doudi::http::RunServer(opts, router);
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
    std::cout << "数据库已是最新结构（本次应用 " << applied << " 个迁移），区划与节假日数据已载入\n";
    return 0;
  }
  if (*seed) {
    auto users = doudi::cli::SeedDemo(*db, auth, registry, county, password);
    if (!users.ok()) return Fail(users.status());
    if (json_out) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& u : *users)
        arr.push_back({{"username", u.username}, {"role", u.role}, {"region_code", u.region_code}});
      std::cout << nlohmann::json{{"users", arr}}.dump() << "\n";
    } else {
      std::cout << "演示账号（密码均为 " << password << "）：\n";
      for (const auto& u : *users)
        std::cout << "  " << u.username << "\t" << u.role << "\t" << u.region_code << "\t" << u.display_name << "\n";
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
    std::cout << "已创建用户 " << u->username << "\n";
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
    std::cout << "已重置 " << target_user << " 的密码\n";
    return 0;
  }
  if (*verify) {
    auto rep = doudi::audit::Verify(**conn);
    if (!rep.ok()) return Fail(rep.status());
    if (rep->ok) {
      std::cout << "审计链完整：共 " << rep->entries << " 条\n";
      return 0;
    }
    std::cout << "审计链已损坏：第 " << rep->first_broken_id << " 条（" << rep->problem << "）\n";
    return 3;
  }
  return 0;
}

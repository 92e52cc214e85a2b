// `doudi migrate` and `doudi seed-demo`: a database made ready, and the demo county in it.
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "cli/commands.h"
#include "cli/demo.h"
#include "storage/migrations.h"

namespace doudi::cli {
namespace {

std::string OtpauthUri(const DemoUser& u) {
  return "otpauth://totp/doudi:" + u.username + "?secret=" + u.totp_secret +
         "&issuer=doudi&algorithm=SHA1&digits=6&period=30";
}

// seed-demo --json: the accounts, with the TOTP secrets of those that have one.
void PrintSeedJson(const std::vector<DemoUser>& users) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& u : users) {
    nlohmann::json j = {{"username", u.username}, {"role", u.role}, {"region_code", u.region_code}};
    if (!u.totp_secret.empty()) {
      j["totp_secret"] = u.totp_secret;
      j["otpauth_uri"] = OtpauthUri(u);
    }
    arr.push_back(std::move(j));
  }
  std::cout << nlohmann::json{{"users", arr}}.dump() << "\n";
}

// seed-demo: the accounts as a table, then the TOTP secrets to add to an authenticator app.
void PrintSeedText(const std::vector<DemoUser>& users, const SeedReport& report, const std::string& password) {
  if (report.password_works)
    std::cout << "演示账号（密码均为 " << password << "）：\n";
  else  // seeded before with another password (or reset since): not `password`
    std::cout << "演示账号已存在，密码未改动（仍为首次创建时的密码，或用 user reset-password 重设）：\n";
  for (const auto& u : users)
    std::cout << "  " << u.username << "\t" << u.role << "\t" << u.region_code << "\t" << u.display_name << "\n";
  bool any_totp = false;
  for (const auto& u : users) {
    if (u.totp_secret.empty()) continue;
    if (!any_totp)
      std::cout << "县级管理员和审计员登录还需动态验证码（TOTP）：请在手机验证器（如 Google Authenticator、"
                   "腾讯身份验证器）中添加以下密钥或链接：\n";
    any_totp = true;
    std::cout << "  " << u.username << "\t密钥 " << u.totp_secret << "\t" << OtpauthUri(u) << "\n";
  }
}

}  // namespace

void SetupCommands::Add(CLI::App& app, CommonOptions& o) {
  migrate_ = app.add_subcommand("migrate", "创建或升级数据库结构，并载入区划与节假日参考数据");
  migrate_->add_option("--db", o.db_url, "数据库地址")->required();
  migrate_->add_option("--data", o.data_dir, "参考数据目录（由 make build 生成）");
  AddAuditDirOption(migrate_, &o.audit_dir);

  seed_ = app.add_subcommand("seed-demo", "写入演示县的账号与家庭");
  seed_->add_option("--db", o.db_url, "数据库地址")->required();
  seed_->add_option("--county", county_, "县级区划代码")->capture_default_str();
  seed_->add_option("--password", password_, "演示账号的统一密码（仅首次创建时使用）")->capture_default_str();
  seed_->add_flag("--json", json_out_, "以 JSON 输出演示账号");
  seed_->add_option("--policies", o.policies_dir, "政策参数包目录");
  AddAuditDirOption(seed_, &o.audit_dir);
}

std::optional<int> SetupCommands::Run(Context& ctx, storage::Connection& conn, const CommonOptions& o) {
  if (*migrate_) return Migrate(conn, o);
  if (*seed_) return Seed(ctx);
  return std::nullopt;
}

int SetupCommands::Migrate(storage::Connection& conn, const CommonOptions& o) {
  int applied = 0;
  Status s = storage::Migrate(conn, &applied);
  if (!s.ok()) return Fail(s);
  s = storage::LoadReferenceData(conn, o.data_dir);
  if (!s.ok()) return Fail(s);
  auto sealed = audit::SealChain(conn);
  if (!sealed.ok()) return Fail(sealed.status());
  std::cout << "数据库已是最新结构（本次应用 " << applied << " 个迁移），区划与节假日数据已载入\n";
  if (sealed->rekeyed)
    std::cout << "审计链已改用密钥计算：" << sealed->entries << " 条审计记录、" << sealed->reads << " 条读取记录\n";
  return 0;
}

int SetupCommands::Seed(Context& ctx) {
  SeedReport report;
  auto users = SeedDemo(ctx.db, ctx.auth, ctx.registry, ctx.emergency, county_, password_, &report);
  if (!users.ok()) return Fail(users.status());
  if (json_out_) PrintSeedJson(*users);
  else PrintSeedText(*users, report, password_);
  return 0;
}

}  // namespace doudi::cli

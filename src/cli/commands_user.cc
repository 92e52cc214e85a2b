// `doudi user add|disable|enable|reset-password|reset-totp`: the operator's account commands
// (county admins and auditors are managed only here, docs/security.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "cli/commands.h"

namespace doudi::cli {

void UserCommands::Add(CLI::App& app, CommonOptions& o) {
  auto* user = app.add_subcommand("user", "管理用户账号");
  user->require_subcommand(1);
  add_ = user->add_subcommand("add", "新增用户");
  add_->add_option("--db", o.db_url, "数据库地址")->required();
  add_->add_option("--username", new_user_.username, "用户名")->required();
  add_->add_option("--password", new_user_.password, "密码（至少10位，含大写字母、小写字母、数字、符号中的三类）")
      ->required();
  add_->add_option("--name", new_user_.display_name, "姓名")->required();
  add_->add_option("--role", new_user_.role,
                   "角色：county_admin county_reviewer town_clerk town_reviewer village_assistant "
                   "department_liaison supervisor auditor")
      ->required();
  add_->add_option("--region", new_user_.region_code, "所属区划代码")->required();
  add_->add_option("--department", new_user_.department, "部门（部门联络员）");
  disable_ = user->add_subcommand("disable", "停用用户");
  enable_ = user->add_subcommand("enable", "启用用户");
  reset_ = user->add_subcommand("reset-password", "重置密码并解除锁定");
  // reset-totp: a lost phone; the user enrols a new second factor at next login
  reset_totp_ = user->add_subcommand("reset-totp", "解除动态验证码绑定（用户下次登录时重新绑定）");
  for (auto* sub : {disable_, enable_, reset_, reset_totp_}) {
    sub->add_option("--db", o.db_url, "数据库地址")->required();
    sub->add_option("username", target_user_, "用户名")->required();
  }
  reset_->add_option("--password", new_password_, "新密码")->required();
}

std::optional<int> UserCommands::Run(Context& ctx, storage::Connection& conn) {
  if (*add_) return AddUser(ctx, conn);
  if (*disable_ || *enable_) {
    Status s = ctx.auth.SetDisabledUnchecked(target_user_, static_cast<bool>(*disable_));
    if (!s.ok()) return Fail(s);
    std::cout << (*disable_ ? "已停用 " : "已启用 ") << target_user_ << "\n";
    return 0;
  }
  if (*reset_) {
    Status s = ctx.auth.ResetPasswordUnchecked(target_user_, new_password_);
    if (!s.ok()) return Fail(s);
    std::cout << "已重置 " << target_user_ << " 的密码（用户下次登录时须修改密码）\n";
    return 0;
  }
  if (*reset_totp_) {
    Status s = ctx.auth.ResetTotpUnchecked(target_user_);
    if (!s.ok()) return Fail(s);
    std::cout << "已解除 " << target_user_ << " 的动态验证码绑定\n";
    return 0;
  }
  return std::nullopt;
}

// user add: the account and its audit entry in one transaction; the password must be
// changed at first login.
int UserCommands::AddUser(Context& ctx, storage::Connection& conn) {
  storage::Transaction tx(conn, true);
  auto u = ctx.auth.CreateUserUnchecked(conn, new_user_);
  if (!u.ok()) return Fail(u.status());
  Status s = audit::RecordWrite(conn, {0, "system"},
                                {"user.create", "user", std::to_string(u->id), u->region_code, "null",
                                 nlohmann::json{{"username", u->username}, {"role", new_user_.role}}.dump()});
  if (!s.ok()) return Fail(s);
  s = tx.Commit();
  if (!s.ok()) return Fail(s);
  std::cout << "已创建用户 " << u->username << "（首次登录时须修改密码）\n";
  return 0;
}

}  // namespace doudi::cli

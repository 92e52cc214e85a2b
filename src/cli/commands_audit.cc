// `doudi audit verify|anchor|keygen`, `doudi backup` and `doudi restore`: the audit chain's
// keys and checks, and the database's copies (restore verifies the chain with the keys of the
// original: its --audit-dir).
#include <iostream>

#include "audit/audit_log.h"
#include "audit/chain_keys.h"
#include "cli/backup.h"
#include "cli/commands.h"

namespace doudi::cli {

void AuditCommands::Add(CLI::App& app, CommonOptions& o) {
  auto* audit_cmd = app.add_subcommand("audit", "审计链");
  audit_cmd->require_subcommand(1);
  verify_ = audit_cmd->add_subcommand("verify", "校验审计链与读取日志链是否完整，并与每个锚点核对");
  verify_->add_option("--db", o.db_url, "数据库地址")->required();
  anchor_ = audit_cmd->add_subcommand("anchor", "立即写入一个签名锚点（两条链当前的末条编号与哈希）");
  anchor_->add_option("--db", o.db_url, "数据库地址")->required();
  keygen_ = audit_cmd->add_subcommand("keygen", "生成缺少的审计密钥文件（已有的不改动）");
  keygen_->add_option("--db", o.db_url, "数据库地址（决定默认密钥目录）");
  backup_ = app.add_subcommand("backup", "备份数据库（SQLite 在线备份，PostgreSQL 用 pg_dump），并写出清单");
  restore_ = app.add_subcommand("restore", "从备份恢复到空数据库，并校验审计链");
  for (auto* sub : {verify_, anchor_, keygen_, restore_}) AddAuditDirOption(sub, &o.audit_dir);
  for (auto* sub : {verify_, anchor_, restore_}) AddAnchorDirOption(sub, &o.anchor_dir);
  AddBackupRestore(o);
}

void AuditCommands::AddBackupRestore(CommonOptions& o) {
  backup_->add_option("--db", o.db_url, "数据库地址")->required();
  backup_->add_option("--out", backup_file_, "备份文件（另写 文件.manifest.json 清单）")->required();
  backup_->add_flag("--force", backup_force_, "覆盖已存在的备份文件");
  restore_->add_option("--db", o.db_url, "目标数据库地址（应为空库）")->required();
  restore_->add_option("--in", backup_file_, "备份文件（旁边应有 文件.manifest.json）")->required();
  restore_->add_flag("--force", backup_force_, "目标库不是空的也恢复（先停止服务）");
  restore_->add_flag("--no-manifest", restore_no_manifest_, "没有清单时也恢复（不核对校验和）");
}

std::optional<int> AuditCommands::PrepareKeys(const CommonOptions& o, bool create, bool required) {
  const std::string key_dir = o.audit_dir.empty() ? audit::DefaultAuditDir(o.db_url) : o.audit_dir;
  if (create || *keygen_) {
    bool created = false;
    Status s = audit::CreateKeysIfMissing(key_dir, &created);
    if (!s.ok()) return Fail(s);
    if (created) std::cerr << "已生成审计密钥：" << key_dir << "（请妥善备份，并离机保存锚点）\n";
  }
  auto keys = audit::LoadKeys(key_dir, o.anchor_dir);
  if (keys.ok()) audit::UseKeys(*keys);
  else if (required || *verify_ || *anchor_ || *keygen_ || *restore_) return Fail(keys.status());
  if (*keygen_) {
    std::cout << "审计密钥目录：" << key_dir << "\n";
    return 0;
  }
  return std::nullopt;
}

std::optional<int> AuditCommands::RunBackupRestore(const CommonOptions& o) {
  if (*backup_) return Backup(o);
  if (*restore_) return Restore(o);
  return std::nullopt;
}

int AuditCommands::Backup(const CommonOptions& o) {
  auto rep = cli::Backup(o.db_url, backup_file_, backup_force_);
  if (!rep.ok()) return Fail(rep.status());
  std::cout << "已备份 " << rep->kind << " 数据库到 " << rep->file << "\n"
            << "  大小：" << rep->size << " 字节\n"
            << "  SHA-256：" << rep->sha256 << "\n"
            << "  审计链头：第 " << rep->head.entries << " 条，哈希 " << rep->head.hash << "\n"
            << "  结构版本：" << rep->schema_version << "\n"
            << "  清单：" << rep->manifest << "\n";
  return 0;
}

int AuditCommands::Restore(const CommonOptions& o) {
  auto rep = cli::Restore(o.db_url, backup_file_, backup_force_, restore_no_manifest_);
  if (!rep.ok()) return Fail(rep.status());
  std::cout << "已从 " << backup_file_ << " 恢复 " << rep->kind << " 数据库"
            << (rep->manifest_checked ? "（文件与清单的 SHA-256 一致）" : "（未核对清单）") << "\n";
  if (rep->verify.ok) {
    std::cout << "审计链完整：共 " << rep->verify.entries << " 条，链头哈希 " << rep->head.hash << "\n";
    return 0;
  }
  std::cout << "审计链校验失败：第 " << rep->verify.first_broken_id << " 条（" << rep->verify.problem << "）\n";
  return 3;
}

std::optional<int> AuditCommands::Run(storage::Connection& conn) {
  if (*verify_) return Verify(conn);
  if (*anchor_) {
    auto path = audit::WriteAnchor(conn);
    if (!path.ok()) return Fail(path.status());
    std::cout << "已写入锚点：" << *path << "\n";
    return 0;
  }
  return std::nullopt;
}

// audit verify: both chains and every anchor; exit 3 names the first broken entry.
int AuditCommands::Verify(storage::Connection& conn) {
  auto rep = audit::Verify(conn);
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

}  // namespace doudi::cli

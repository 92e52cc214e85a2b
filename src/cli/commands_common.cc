// What the command groups share: the binary's directory, the error line, the key options.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"

namespace doudi::cli {

std::string ExeDir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

int Fail(const Status& s) {
  std::cerr << "错误：" << s.message();
  if (!s.field().empty()) std::cerr << "（" << s.field() << "）";
  if (s.code() == Code::kInternal || s.code() == Code::kUnavailable) std::cerr << "：" << s.detail();
  std::cerr << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

void AddAuditDirOption(CLI::App* sub, std::string* dir) {
  sub->add_option("--audit-dir", *dir,
                  "审计密钥目录（默认：环境变量 DOUDI_AUDIT_DIR；SQLite 为数据库文件旁的 <文件>.audit，"
                  "PostgreSQL 为 var/audit/<库名>）");
}

void AddAnchorDirOption(CLI::App* sub, std::string* dir) {
  sub->add_option("--anchor-dir", *dir, "锚点目录（默认：密钥目录下的 anchors）");
}

}  // namespace doudi::cli

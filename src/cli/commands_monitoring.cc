// `doudi import-feed` and `doudi monitor`: department data in, the month's match run (docs/feeds.md).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "common/date.h"
#include "monitoring/feeds.h"

namespace doudi::cli {

void MonitoringCommands::Add(CLI::App& app, CommonOptions& o) {
  import_ = app.add_subcommand("import-feed", "导入部门比对数据（CSV，UTF-8 或 GB18030）");
  import_->add_option("--db", o.db_url, "数据库地址")->required();
  import_->add_option("--source", feed_source_, "数据来源（见 docs/feeds.md）：death vehicle wage medical …")->required();
  import_->add_option("--month", feed_month_, "所属月份 YYYY-MM（默认本月）");
  import_->add_option("--county", feed_county_, "县级区划代码");
  import_->add_option("--policies", o.policies_dir, "政策参数包目录");
  import_->add_option("file", feed_file_, "CSV 文件")->required();

  monitor_ = app.add_subcommand("monitor", "运行月度动态监测比对，生成预警");
  monitor_->add_option("--db", o.db_url, "数据库地址")->required();
  monitor_->add_option("--month", monitor_month_, "月份 YYYY-MM（默认本月）");
  monitor_->add_option("--county", monitor_county_, "县级区划代码");
  monitor_->add_option("--policies", o.policies_dir, "政策参数包目录");
}

std::optional<int> MonitoringCommands::Run(Context& ctx) {
  if (import_->parsed()) return ImportFeed(ctx);
  if (monitor_->parsed()) return Monitor(ctx);
  return std::nullopt;
}

// import-feed: one file for one month (imported once); bad rows are listed on stderr by line.
int MonitoringCommands::ImportFeed(Context& ctx) {
  std::ifstream in(feed_file_, std::ios::binary);
  if (!in) return Fail(Status::InvalidArgument("file", "无法读取文件：" + feed_file_));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string month = feed_month_.empty() ? TodayShanghai().substr(0, 7) : feed_month_;
  auto rep = monitoring::ImportFeed(ctx.db, {0, "system"}, feed_county_, feed_source_, month,
                                    std::filesystem::path(feed_file_).filename().string(), bytes,
                                    [](uint64_t rows) { std::cerr << "已读取 " << rows << " 行\n"; });
  if (!rep.ok()) return Fail(rep.status());
  if (rep->already_imported) {
    std::cout << "该文件已导入过（文件编号 " << rep->file_id << "），未作任何修改\n";
    return 0;
  }
  for (const auto& p : rep->problems)
    std::cerr << feed_file_ << ":" << p.line << ": " << p.field << ": " << p.message << "\n";
  std::cout << "已导入 " << rep->imported << " 行，" << rep->invalid << " 行有误未导入（编码 " << rep->encoding
            << "，文件编号 " << rep->file_id << "）\n";
  return 0;
}

// monitor: the month's run, its progress on stderr, its result as JSON.
int MonitoringCommands::Monitor(Context& ctx) {
  std::string month = monitor_month_.empty() ? TodayShanghai().substr(0, 7) : monitor_month_;
  auto rep = ctx.monitor.Run({0, "system"}, monitor_county_, month,
                             [](const std::string& step, uint64_t done, uint64_t total) {
                               std::cerr << step << "：" << done << "/" << total << "\n";
                             });
  if (!rep.ok()) return Fail(rep.status());
  std::cout << monitoring::ToJson(*rep).dump(2) << "\n";
  return 0;
}

}  // namespace doudi::cli

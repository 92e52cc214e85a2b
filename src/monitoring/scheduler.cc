#include "monitoring/scheduler.h"

#include <spdlog/spdlog.h>

#include "common/date.h"

namespace doudi::monitoring {

Result<std::vector<DueRun>> DueMonthlyRuns(storage::Connection& conn, const std::string& today, int day) {
  std::vector<DueRun> due;
  int y, m, d;
  if (day <= 0 || !ParseDate(today, &y, &m, &d) || d < day) return due;
  if (--m == 0) m = 12, --y;
  const std::string month = FormatDate(y, m, 1).substr(0, 7);
  auto feeds = conn.Query(
      "SELECT county_code, MAX(imported_at) FROM feed_files WHERE month = ? GROUP BY county_code ORDER BY county_code",
      {month});
  if (!feeds.ok()) return feeds.status();
  for (const auto& f : feeds->rows) {
    auto run = conn.Query(
        "SELECT MAX(started_at) FROM monitor_runs WHERE county_code = ? AND month = ? AND finished_at IS NOT NULL",
        {f.Text(0), month});
    if (!run.ok()) return run.status();
    // Due when never run, or when data arrived after the last run started.
    if (run->rows[0].IsNull(0) || run->rows[0].Text(0) < f.Text(1)) due.push_back({f.Text(0), month});
  }
  return due;
}

int MonthlyScheduler::RunDue() {
  std::vector<DueRun> due;
  {
    auto conn = db_.Acquire();
    if (!conn.ok()) {
      spdlog::error("monitoring schedule: {}", conn.status().detail());
      return 0;
    }
    auto d = DueMonthlyRuns(**conn, TodayShanghai(), day_);
    if (!d.ok()) {
      spdlog::error("monitoring schedule: {}", d.status().detail());
      return 0;
    }
    due = std::move(*d);
  }
  int done = 0;
  for (const auto& r : due) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    auto rep = monitor_.Run({0, "system"}, r.county, r.month, {}, "schedule");
    if (rep.ok()) {
      ++done;
      spdlog::info("monitoring schedule: county {} month {}: {} alerts raised", r.county, r.month, rep->alerts_raised);
    } else {
      spdlog::error("monitoring schedule: county {} month {}: {}", r.county, r.month, rep.status().detail());
    }
  }
  return done;
}

void MonthlyScheduler::Start() {
  if (day_ <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      RunDue();
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(interval_), [this] { return stop_; });
    }
  });
}

void MonthlyScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace doudi::monitoring

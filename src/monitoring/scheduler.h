// The server's monthly monitoring run (docs/monitoring.md). From day `day` of each month, the
// previous month is run for every county whose department data for that month has arrived, and
// run again when more data arrives after the last run. Manual runs (CLI, web) count too.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "monitoring/monitor.h"
#include "storage/database.h"

namespace doudi::monitoring {

struct DueRun {
  std::string county, month;
};

// The runs due on `today` (YYYY-MM-DD, Asia/Shanghai) when the schedule starts on `day`
// (1–28; 0 disables the schedule).
Result<std::vector<DueRun>> DueMonthlyRuns(storage::Connection& conn, const std::string& today, int day);

class MonthlyScheduler {
 public:
  MonthlyScheduler(storage::Database& db, MonitorService& monitor, int day, int interval_seconds)
      : db_(db), monitor_(monitor), day_(day), interval_(interval_seconds) {}
  ~MonthlyScheduler() { Stop(); }
  // Checks at once, then every interval, on its own thread, until Stop().
  void Start();
  void Stop();
  // One check: runs whatever is due now. Returns the number of runs done.
  int RunDue();

 private:
  storage::Database& db_;
  MonitorService& monitor_;
  int day_, interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace doudi::monitoring

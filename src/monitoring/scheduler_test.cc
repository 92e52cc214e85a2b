// The monthly schedule's due runs, on both databases, and the Excel writer the exports use.
#include <gtest/gtest.h>

#include "monitoring/scheduler.h"
#include "reports/xlsx.h"
#include "storage/test_db.h"

namespace doudi::monitoring {
namespace {

class ScheduleTest : public storage::testing::MigratedDbTest {
 protected:
  void Feed(const std::string& county, const std::string& month, const std::string& at, const std::string& sha) {
    auto s = conn().Execute(
        "INSERT INTO feed_files (county_code, source, month, filename, sha256, encoding, content, rows_total, "
        "rows_imported, rows_invalid, problems, imported_by, imported_at) "
        "VALUES (?, 'death', ?, 'f.csv', ?, 'utf-8', '', 1, 1, 0, '[]', 't', ?)",
        {county, month, sha, at});
    ASSERT_TRUE(s.ok()) << s.status().detail();
  }
  void RunAt(const std::string& county, const std::string& month, const std::string& at, bool finished = true) {
    auto s = conn().Execute(
        "INSERT INTO monitor_runs (county_code, month, started_at, finished_at, actor, origin) VALUES (?, ?, ?, ?, 't', 'manual')",
        {county, month, at, finished ? storage::Value(at) : storage::Value(nullptr)});
    ASSERT_TRUE(s.ok()) << s.status().detail();
  }
  std::vector<std::string> Due(const std::string& today, int day) {
    auto d = DueMonthlyRuns(conn(), today, day);
    EXPECT_TRUE(d.ok());
    std::vector<std::string> out;
    if (d.ok())
      for (const auto& r : *d) out.push_back(r.county + " " + r.month);
    return out;
  }
};

TEST_P(ScheduleTest, PreviousMonthIsDueOnceItsDataHasArrived) {
  // Nothing arrived: nothing to run.
  EXPECT_TRUE(Due("2026-11-05", 1).empty());
  Feed("370725", "2026-10", "2026-11-02T09:00:00+08:00", "a");
  Feed("520524", "2026-09", "2026-10-03T09:00:00+08:00", "b");  // an older month is not this schedule's
  EXPECT_EQ(Due("2026-11-05", 1), std::vector<std::string>{"370725 2026-10"});
  // Before the configured day, and with the schedule off, nothing is due.
  EXPECT_TRUE(Due("2026-11-02", 3).empty());
  EXPECT_TRUE(Due("2026-11-05", 0).empty());
  // January runs December of the year before.
  Feed("370725", "2026-12", "2027-01-01T08:00:00+08:00", "c");
  EXPECT_EQ(Due("2027-01-01", 1), std::vector<std::string>{"370725 2026-12"});
}

TEST_P(ScheduleTest, RunsAgainOnlyWhenDataArrivesAfterTheLastRun) {
  Feed("370725", "2026-10", "2026-11-02T09:00:00+08:00", "a");
  RunAt("370725", "2026-10", "2026-11-02T10:00:00+08:00");
  EXPECT_TRUE(Due("2026-11-05", 1).empty());
  // An unfinished run does not count.
  RunAt("370725", "2026-10", "2026-11-04T10:00:00+08:00", false);
  EXPECT_TRUE(Due("2026-11-05", 1).empty());
  Feed("370725", "2026-10", "2026-11-03T09:00:00+08:00", "b");
  EXPECT_EQ(Due("2026-11-05", 1), std::vector<std::string>{"370725 2026-10"});
  RunAt("370725", "2026-10", "2026-11-03T10:00:00+08:00");
  EXPECT_TRUE(Due("2026-11-05", 1).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ScheduleTest, ::testing::ValuesIn(storage::testing::Backends()));

TEST(Xlsx, WritesAZipWorkbookWithTheSheetAndItsStrings) {
  reports::Sheet s{"月报告", "昌乐县2026年11月", {"村（社区）", "户数", "金额（元）"}, {16, 8, 12},
                   {{std::string("一村"), int64_t{3}, reports::Fen{123456}}, {std::string("二村"), {}, reports::Fen{0}}},
                   {"填报日期：2026-11-23"}};
  auto bytes = reports::WriteWorkbook({s});
  ASSERT_TRUE(bytes.ok());
  ASSERT_GT(bytes->size(), 1000u);
  EXPECT_EQ(bytes->substr(0, 2), "PK");  // a ZIP container
  EXPECT_NE(bytes->find("xl/worksheets/sheet1.xml"), std::string::npos);
  EXPECT_NE(bytes->find("xl/sharedStrings.xml"), std::string::npos);
  // A sheet name Excel refuses is an error, not a broken file.
  reports::Sheet bad = s;
  bad.name = "a/b";
  EXPECT_FALSE(reports::WriteWorkbook({bad}).ok());
}

}  // namespace
}  // namespace doudi::monitoring

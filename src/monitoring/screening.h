// Monthly screening (月排查、月公示、月报告; docs/monitoring.md): each month every village
// assistant gets the households to visit — those with an alert still open or raised that month,
// and those whose periodic review falls due — records the visit results, and the month's list,
// public notice and report are exported as Excel workbooks. Thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "storage/database.h"

namespace doudi::monitoring {

struct Workbook {
  std::string filename;  // Chinese, e.g. "2026年11月月排查清单.xlsx"
  std::string bytes;
};

class ScreeningService {
 public:
  explicit ScreeningService(storage::Database& db) : db_(db) {}

  // The month's households to visit in the user's scope (optionally one village within it),
  // each with its reasons and its visit; status "pending" | "visited" | "" filters.
  Result<nlohmann::json> List(const auth::User& actor, const std::string& month, const std::string& village,
                              const std::string& status, int64_t page, int64_t page_size);
  // Records (or, with the version last seen, corrects) one household's visit for a month.
  Result<nlohmann::json> RecordVisit(const auth::User& actor, const nlohmann::json& body);
  // kind: "list" (月排查清单) | "notice" (月公示名单) | "report" (月报告).
  Result<Workbook> Export(const auth::User& actor, const std::string& month, const std::string& kind);

 private:
  storage::Database& db_;
};

// The visit results an assistant may record, with their Chinese labels.
const char* VisitResultLabel(const std::string& result);

}  // namespace doudi::monitoring

// Department data feeds: the declared layout of each source (docs/feeds.md) and their import.
//
// A feed file is CSV as exported from Excel (UTF-8, or GB18030 converted here), with a header
// naming the columns (the English key or the Chinese label of docs/feeds.md). Import validates
// every row: a bad row is reported with its line number, field and reason and the rest of the
// file goes in; the file is imported in one transaction; the same file (same source and
// SHA-256 of its content) imported again changes nothing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "common/status.h"
#include "storage/database.h"

namespace doudi::monitoring {

enum class FieldType { kCitizenId, kText, kDate, kMonth, kYuan, kInt, kDivision };

struct FeedColumn {
  const char* key;    // English identifier, e.g. "date_of_death"
  const char* label;  // Chinese header accepted too, e.g. "死亡日期"
  FieldType type;
  bool required;
  int64_t min = 0;  // kInt: the range of the value
  int64_t max = 999'999'999'999;
};

struct FeedSource {
  const char* kind;   // e.g. "death"
  const char* label;  // e.g. "死亡人员（公安/卫健）"
  const char* department;
  std::vector<FeedColumn> columns;  // the first is always citizen_id
};

const std::vector<FeedSource>& FeedSources();
const FeedSource* FindSource(const std::string& kind);

struct RowProblem {
  uint64_t line = 0;
  std::string field, message;
};

struct ImportReport {
  int64_t file_id = 0;
  bool already_imported = false;
  std::string encoding;  // "utf-8" | "gb18030"
  uint64_t rows = 0, imported = 0, invalid = 0;
  std::vector<RowProblem> problems;  // the first 1000
};

// Converts GB18030 bytes to UTF-8 (iconv). Bytes that are valid UTF-8 are returned as they are
// and *encoding is "utf-8". A file that has a UTF-8 byte-order mark, or at least two valid
// UTF-8 characters of three or four bytes (Chinese text) before its first invalid byte, is a
// UTF-8 file with an error: InvalidArgument naming the line. Otherwise it is read as GB18030;
// InvalidArgument naming the line of the first invalid UTF-8 byte when it is not that either.
Result<std::string> ToUtf8(const std::string& bytes, std::string* encoding);

// The source is declared and the month is YYYY-MM (checked before a background import starts).
Status CheckFeedTarget(const std::string& source, const std::string& month);

// Imports one feed file for `month` (YYYY-MM). Progress goes to on_progress(rows_done).
Result<ImportReport> ImportFeed(storage::Database& db, const audit::Actor& actor, const std::string& county,
                                const std::string& source, const std::string& month, const std::string& filename,
                                const std::string& bytes, const std::function<void(uint64_t)>& on_progress = {});

nlohmann::json ToJson(const ImportReport& r);

}  // namespace doudi::monitoring

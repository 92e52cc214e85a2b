// The monitoring match engine: which rows of a department feed name a person in the registry.
//
// A batch engine (see docs/monitoring-engine.md). The registry's citizen ids are validated,
// packed into 64-bit integers and put in an open-addressing hash table (RegistryIndex). A feed
// CSV is then streamed in large blocks on every core: each row is split at its line end, its
// citizen id is validated with exactly the rules of ParseCitizenId (GB 11643 check character,
// a real birth date not after today), packed like PackCitizenId, and probed. Invalid rows are
// counted and reported with their 1-based line numbers; the rest of the file goes on.
//
// CSV dialect (both files):
//   - UTF-8 bytes. A leading UTF-8 byte-order mark is skipped. GB18030 files (Excel exports)
//     must be converted to UTF-8 by the caller first (iconv); the id itself is ASCII either way,
//     but the fields handed to MatchCallback are the file's bytes, unconverted.
//   - One row per line: rows end at "\n"; a "\r" before it is dropped (CRLF files work). A
//     line break inside a quoted field is NOT supported: the line ends the row. This is what
//     lets every core split the file at line boundaries without reading what came before, and
//     it keeps line numbers equal to the line numbers an editor shows.
//   - A field may be quoted ("..."), with "" for a quote inside; quoted fields may contain the
//     delimiter. Spaces and tabs around the citizen id are ignored; a lower-case x check
//     character is accepted and normalized.
//   - Lines that are empty, or hold only delimiters, spaces and quotes (Excel's trailing ",,,"
//     rows), are blank: skipped, not counted as rows, but counted as lines.
//
// Thread-safety: a built RegistryIndex is immutable; any number of threads may call Find and
// MatchFeed* on it at the same time. The functions below start and join their own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace doudi::monitoring {

// Why a row's citizen id was not used. The messages are the words of ParseCitizenId.
enum class IdProblem : uint8_t {
  kNone = 0,
  kMissingColumn,    // the row has fewer columns than the layout's id column
  kLength,           // not 18 characters
  kNotDigits,        // one of the first 17 characters is not 0-9
  kCheckSyntax,      // the 18th character is not 0-9, X or x
  kBadBirthDate,     // characters 7-14 are not a real date from 1900-01-01 on
  kFutureBirthDate,  // the birth date is after today
  kCheckMismatch,    // the MOD 11-2 check character does not match
  kDuplicate,        // registry only: the same person appeared on an earlier row
};

// Stable machine-readable token, e.g. "check_mismatch". Never null.
const char* IdProblemReason(IdProblem problem);
// User-facing message in Simplified Chinese, e.g. "身份证号校验位错误". Never null.
const char* IdProblemMessage(IdProblem problem);

// Validates `id` with exactly the rules of ParseCitizenId (no trimming) and, when valid, stores
// PackCitizenId(normalized id) in *packed. `today` is YYYYMMDD (e.g. 20260315); birth dates
// after it are rejected. Returns kNone or the first problem found, in ParseCitizenId's order.
// Never allocates. Thread-safe.
IdProblem ValidateAndPackCitizenId(std::string_view id, uint32_t today, uint64_t* packed);

// Today's date in Asia/Shanghai as YYYYMMDD.
uint32_t TodayYyyymmdd();

// Which column of a CSV holds the citizen id, and how the file is delimited.
struct CsvLayout {
  char delimiter = ',';        // must not be '"', '\r' or '\n'
  bool has_header = true;      // line 1 is a header: never validated, never matched
  size_t id_column = 0;        // 0-based column of the citizen id
  std::string id_column_name;  // when non-empty, the column with this header name (trimmed,
                               // exact match) overrides id_column; requires has_header
};

struct ScanOptions {
  int threads = 0;                           // worker threads; <= 0: one per core
  size_t block_bytes = size_t{8} << 20;      // bytes per work unit (clamped to [1, 1 GiB])
  size_t max_errors = 100;                   // keep this many RowErrors; all are counted
  uint32_t today = 0;                        // YYYYMMDD for the birth-date check; 0: today
  bool with_fields = true;                   // feeds: split matched rows into FeedMatch::fields
  // Called after each block, in file order, from one thread at a time (maybe not the caller's).
  std::function<void(uint64_t bytes_done, uint64_t bytes_total)> on_progress;
  // When set and it becomes true, the scan stops soon and returns FailedPrecondition.
  const std::atomic<bool>* cancel = nullptr;
};

// A row that was not used, by its 1-based physical line number in the file.
struct RowError {
  uint64_t line = 0;
  IdProblem problem = IdProblem::kNone;
};

// What a scan of one CSV saw. rows = valid + invalid + duplicates (duplicates: registry only).
struct ScanReport {
  uint64_t bytes = 0;        // size of the input
  uint64_t lines = 0;        // physical lines, header and blank lines included
  uint64_t rows = 0;         // data rows: lines less the header and blank lines
  uint64_t blank_lines = 0;  // skipped lines (see the dialect above)
  uint64_t invalid = 0;      // rows whose citizen id was rejected
  uint64_t duplicates = 0;   // registry: rows whose person appeared earlier (first row kept)
  uint64_t matched = 0;      // feed: rows whose person is in the registry
  std::vector<RowError> errors;  // the first max_errors invalid/duplicate rows, in line order
};

// The registry's persons as a hash table from packed citizen id to registry row.
//
// A registry row is the caller's index: the position in the span given to FromIds/FromPacked,
// or, for a CSV, the 0-based ordinal of the data row (header and blank lines do not count;
// invalid and duplicate rows do, so ordinals line up with the caller's own reading of the
// file). Memory: about 21 bytes per person (64-byte buckets of 5 persons at a load factor of
// about 0.7, at most 0.85, plus a Bloom filter of 13-26 bits per person; 5 million persons:
// 105 MB), in huge pages where the kernel allows.
class RegistryIndex {
 public:
  // Builds from packed ids (PackCitizenId of validated ids). Errors: InvalidArgument (field
  // "ids[i]") for a value that is not 17 digits and their own check value packed (0, too
  // large, wrong check); Conflict (field "ids[i]") for a repeat. Not thread-safe to call on
  // the same span while it changes; builds on the calling thread.
  static Result<RegistryIndex> FromPacked(std::span<const uint64_t> packed);
  // Builds from citizen ids as text, validating each like ValidateAndPackCitizenId (today
  // 0: today). Errors: InvalidArgument (field "ids[i]", ParseCitizenId's message); Conflict
  // (field "ids[i]") for a repeat, lower-case x and upper-case X being the same person.
  // Builds on the calling thread.
  static Result<RegistryIndex> FromIds(std::span<const std::string_view> ids, uint32_t today = 0);
  // Builds from a CSV file (see the dialect above). Invalid and duplicate rows are skipped and
  // reported in *report (may be null); the first of several equal ids keeps its row. Errors:
  // NotFound (no such file), InvalidArgument (layout, or id_column_name not in the header),
  // FailedPrecondition (cancelled), Internal (I/O). Uses options.threads threads. The file is
  // mapped block by block: it must not shrink while it is read.
  static Result<RegistryIndex> FromCsvFile(const std::string& path, const CsvLayout& layout,
                                           const ScanOptions& options, ScanReport* report);
  // The same for CSV bytes in memory (not copied; need not outlive the call).
  static Result<RegistryIndex> FromCsvBytes(std::string_view csv, const CsvLayout& layout,
                                            const ScanOptions& options, ScanReport* report);

  RegistryIndex(RegistryIndex&&) noexcept;
  RegistryIndex& operator=(RegistryIndex&&) noexcept;
  RegistryIndex(const RegistryIndex&) = delete;
  RegistryIndex& operator=(const RegistryIndex&) = delete;
  ~RegistryIndex();

  // Number of persons indexed.
  size_t size() const;
  // Bytes held by the table.
  size_t memory_bytes() const;
  // The registry row of a packed id, or nullopt. Thread-safe.
  std::optional<uint32_t> Find(uint64_t packed) const;

  struct Table;  // defined in match_engine.cc

 private:
  explicit RegistryIndex(std::unique_ptr<Table> table);
  friend struct RegistryIndexBuilder;
  std::unique_ptr<Table> table_;
};

// One feed row whose person is in the registry.
struct FeedMatch {
  uint32_t registry_row = 0;  // see RegistryIndex
  uint64_t line = 0;          // 1-based physical line in the feed
  uint64_t offset = 0;        // byte offset of the row's first byte in the input
  // All fields of the row, unquoted (the id as written). Empty unless options.with_fields.
  // The views are valid only during the callback.
  std::span<const std::string_view> fields;
};

// Receives the matches in file order, in batches (one per block, none for blocks without
// matches). Calls are serialized but may come from any of the scan's threads; a slow callback
// holds the scan up (that is the back-pressure).
using MatchCallback = std::function<void(std::span<const FeedMatch> batch)>;

// Streams the feed at `path` and reports every row whose citizen id is in `index`: a feed row
// matches at most once; several rows of one person each match. on_matches may be empty
// (counts only). Returns the report (matched, invalid with the first errors, ...). Errors:
// NotFound (no such file), InvalidArgument (layout, or id_column_name not in the header),
// FailedPrecondition (cancelled), Internal (I/O). Callbacks already made stay made.
Result<ScanReport> MatchFeedFile(const RegistryIndex& index, const std::string& path,
                                 const CsvLayout& layout, const ScanOptions& options,
                                 const MatchCallback& on_matches);
// The same for CSV bytes in memory (not copied; must outlive the call only).
Result<ScanReport> MatchFeedBytes(const RegistryIndex& index, std::string_view csv,
                                  const CsvLayout& layout, const ScanOptions& options,
                                  const MatchCallback& on_matches);

// Splits one CSV row (without its line end) into unquoted fields, with the dialect above:
// the same splitting that produces FeedMatch::fields. For tools and tests; allocates.
std::vector<std::string> SplitCsvRow(std::string_view row, char delimiter = ',');

}  // namespace doudi::monitoring

// The registry index: RegistryIndex built from packed ids, from ids as text, or from a CSV
// scanned on every core (match_engine.h).
#include <algorithm>
#include <atomic>
#include <thread>

#include "monitoring/match_blocks.h"
#include "monitoring/match_rows.h"
#include "monitoring/match_table.h"

namespace doudi::monitoring {

using namespace engine;

// ---------------------------------------------------------------------------------------------
// Building the index.
// ---------------------------------------------------------------------------------------------
namespace {

uint64_t BucketsFor(uint64_t n) {  // load factor 0.75; the table grows past 0.85
  return std::max<uint64_t>(16, n * 4 / 3 / RegistryIndex::Table::Bucket::kSlots + 1);
}

// Builds the index in input order, part by part: the first of several equal keys keeps its
// row. Add(p, ...) for different parts may run at the same time; for one part, one at a time.
class TableBuilder {
 public:
  struct Dup {
    uint64_t row;
    uint64_t line;
  };

  Status Start(int pbits, uint64_t expected_rows) {
    table_ = std::make_unique<RegistryIndex::Table>();
    table_->pbits = pbits;
    table_->parts.resize(size_t{1} << pbits);
    dups_.resize(table_->parts.size());
    for (auto& part : table_->parts)
      if (!part.Allocate(BucketsFor(expected_rows >> pbits))) return Status::Internal("registry index: out of memory");
    return Status::Ok();
  }
  int parts() const { return static_cast<int>(table_->parts.size()); }
  int PartOf(uint64_t key) const { return table_->pbits == 0 ? 0 : static_cast<int>(Mix(key) >> (64 - table_->pbits)); }

  // Inserts entries of part p (rows and lines relative to the bases), prefetching a group of
  // buckets at a time. Grows the part when it would pass a load factor of 0.85.
  Status Add(int p, const Entry* es, size_t n, uint64_t row_base, uint64_t line_base) {
    RegistryIndex::Table::Part& part = table_->parts[p];
    if ((part.count + n) * 20 > part.capacity() * 17) DOUDI_RETURN_IF_ERROR(Grow(&part, part.count + n));
    const int pbits = table_->pbits;
    constexpr size_t kGroup = 16;
    uint64_t slots[kGroup];
    for (size_t g = 0; g < n; g += kGroup) {
      const size_t m = std::min(kGroup, n - g);
      for (size_t j = 0; j < m; ++j) {
        slots[j] = part.BucketOf(Mix(es[g + j].key) << pbits);
        __builtin_prefetch(&part.buckets[slots[j]], 1);
      }
      for (size_t j = 0; j < m; ++j) {
        const Entry& e = es[g + j];
        if (part.Insert(e.key, static_cast<uint32_t>(row_base + e.row), slots[j]) >= 0)
          dups_[p].push_back({row_base + e.row, line_base + e.line});
      }
    }
    return Status::Ok();
  }

  // Builds the filters (one thread per part, up to `threads`) and hands the table over.
  Result<RegistryIndex> Finish(int threads);
  // All duplicate rows, by line.
  std::vector<Dup> Dups() const {
    std::vector<Dup> all;
    for (const auto& d : dups_) all.insert(all.end(), d.begin(), d.end());
    std::sort(all.begin(), all.end(), [](const Dup& a, const Dup& b) { return a.line < b.line; });
    return all;
  }

 private:
  Status Grow(RegistryIndex::Table::Part* part, uint64_t n) {
    RegistryIndex::Table::Part bigger;
    if (!bigger.Allocate(BucketsFor(n * 2))) return Status::Internal("registry index: out of memory");
    part->ForEach([&](uint64_t key, uint32_t row) { bigger.Insert(key, row, bigger.BucketOf(Mix(key) << table_->pbits)); });
    *part = std::move(bigger);
    return Status::Ok();
  }

  std::unique_ptr<RegistryIndex::Table> table_;
  std::vector<std::vector<Dup>> dups_;  // per part, in line order
};

}  // namespace

Result<RegistryIndex> TableBuilder::Finish(int threads) {
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  auto build = [&] {
    for (size_t p; (p = next.fetch_add(1)) < table_->parts.size();)
      if (!table_->parts[p].BuildFilter(table_->pbits)) ok = false;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, parts()); ++t) pool.emplace_back(build);
  build();
  for (auto& t : pool) t.join();
  if (!ok) return Status::Internal("registry index: out of memory");
  return RegistryIndexBuilder::Make(std::move(table_));
}

RegistryIndex::RegistryIndex(std::unique_ptr<Table> table) : table_(std::move(table)) {}
RegistryIndex::RegistryIndex(RegistryIndex&&) noexcept = default;
RegistryIndex& RegistryIndex::operator=(RegistryIndex&&) noexcept = default;
RegistryIndex::~RegistryIndex() = default;

size_t RegistryIndex::size() const { return table_ ? table_->count() : 0; }

size_t RegistryIndex::memory_bytes() const {
  size_t n = 0;
  if (table_)
    for (const auto& p : table_->parts) n += p.bytes();
  return n;
}

std::optional<uint32_t> RegistryIndex::Find(uint64_t packed) const {
  if (!table_ || packed == 0) return std::nullopt;
  const uint64_t h = Mix(packed), g = h << table_->pbits;
  const Table::Part& part = table_->PartOf(h);
  if (!part.MayContain(g, h)) return std::nullopt;
  const int64_t row = part.Probe(packed, part.BucketOf(g));
  if (row < 0) return std::nullopt;
  return static_cast<uint32_t>(row);
}

namespace {

// True when `packed` is the packing of 17 digits and their own check value.
bool PlausiblePacked(uint64_t packed) {
  if (packed == 0 || packed > kMaxPacked) return false;
  uint64_t digits = packed / 11;
  const unsigned check = static_cast<unsigned>(packed % 11);
  unsigned sum = 0;
  for (int i = 16; i >= 0; --i) {
    sum += static_cast<unsigned>(digits % 10) * kWeights[i];
    digits /= 10;
  }
  return check == (12 - sum % 11) % 11;
}

// Builds from keys already validated; a repeat is a Conflict naming ids[i].
Result<RegistryIndex> BuildFromEntries(const std::vector<Entry>& entries) {
  TableBuilder builder;
  DOUDI_RETURN_IF_ERROR(builder.Start(0, entries.size()));
  DOUDI_RETURN_IF_ERROR(builder.Add(0, entries.data(), entries.size(), 0, 0));
  const auto dups = builder.Dups();
  if (!dups.empty()) return Status::Conflict("ids[" + std::to_string(dups[0].row) + "]", "身份证号重复");
  return builder.Finish(1);
}

}  // namespace

Result<RegistryIndex> RegistryIndex::FromPacked(std::span<const uint64_t> packed) {
  if (packed.size() >= UINT32_MAX) return Status::InvalidArgument("ids", "登记人数超过上限");
  std::vector<Entry> entries;
  entries.reserve(packed.size());
  for (size_t i = 0; i < packed.size(); ++i) {
    if (!PlausiblePacked(packed[i]))
      return Status::InvalidArgument("ids[" + std::to_string(i) + "]", "不是有效的身份证号编码");
    entries.push_back({packed[i], static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
  }
  return BuildFromEntries(entries);
}

Result<RegistryIndex> RegistryIndex::FromIds(std::span<const std::string_view> ids, uint32_t today) {
  if (ids.size() >= UINT32_MAX) return Status::InvalidArgument("ids", "登记人数超过上限");
  if (today == 0) today = TodayYyyymmdd();
  std::vector<Entry> entries;
  entries.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    uint64_t key;
    const IdProblem p = ValidateAndPackCitizenId(ids[i], today, &key);
    if (p != IdProblem::kNone)
      return Status::InvalidArgument("ids[" + std::to_string(i) + "]", IdProblemMessage(p));
    entries.push_back({key, static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
  }
  return BuildFromEntries(entries);
}

namespace {

// Parses the blocks on every core, each block's keys sorted into one list per table part;
// lane p then inserts part p's keys block after block in file order (so the first of equal
// ids wins), while the other lanes and the parsing go on. Only the blocks in flight hold their
// keys outside the table.
Result<RegistryIndex> BuildFromSource(const Source& src, const CsvLayout& layout,
                                      const ScanOptions& options, ScanReport* out) {
  ScanReport report;
  report.bytes = src.size();
  DOUDI_ASSIGN_OR_RETURN(const ScanInput in, PrepareScan(src, layout, options));
  const RowRules& rules = in.rules;
  const BlockPlan& plan = in.plan;
  const int threads = ThreadCount(options.threads);
  int pbits = 0;
  while ((1 << pbits) < threads && pbits < 6) ++pbits;
  TableBuilder builder;
  DOUDI_RETURN_IF_ERROR(builder.Start(pbits, EstimateRows(src, plan.data_begin) * 21 / 20));
  const int parts = builder.parts();

  std::vector<std::vector<std::vector<Entry>>> entries(plan.count);  // [block][part]
  std::vector<BlockCounts> counts(plan.count);
  Spares<std::vector<Entry>> spares;
  struct Lane {
    uint64_t line_base = 0, row_base = 0;
    Status error;
  };
  std::vector<Lane> lanes(parts);

  auto work = [&](size_t k, const char* begin, const char* end, uint64_t) {
    std::vector<std::vector<Entry>>& es = entries[k];
    es.resize(parts);
    for (auto& v : es) {
      v = spares.Take();
      v.clear();
    }
    ScanRows(begin, end, k == 0 && rules.skip_header, rules, options.max_errors, &counts[k],
             [&](uint64_t key, uint64_t line, uint64_t row, const char*, const char*) {
               es[builder.PartOf(key)].push_back({key, static_cast<uint32_t>(row), static_cast<uint32_t>(line)});
             });
  };
  auto done = [&](int p, size_t k, uint64_t bytes_done) {
    Lane& lane = lanes[p];
    const BlockCounts& c = counts[k];
    if (lane.error.ok() && lane.row_base + c.rows >= UINT32_MAX)
      lane.error = Status::InvalidArgument("registry", "登记人数超过上限");
    if (lane.error.ok() && !entries[k].empty()) {
      std::vector<Entry>& es = entries[k][p];
      lane.error = builder.Add(p, es.data(), es.size(), lane.row_base, lane.line_base);
      spares.Give(std::move(es));
    }
    lane.line_base += c.lines;
    lane.row_base += c.rows;
    if (p != 0) return;
    AddBlockCounts(c, options.max_errors, &report);
    if (options.on_progress) options.on_progress(bytes_done, src.size());
  };
  DOUDI_RETURN_IF_ERROR(RunBlocks(src, plan, threads, parts, options, work, done));
  for (const Lane& lane : lanes) DOUDI_RETURN_IF_ERROR(lane.error);

  // Merge the duplicate rows into the line-ordered errors.
  const auto dups = builder.Dups();
  report.duplicates = dups.size();
  std::vector<RowError> merged;
  size_t i = 0, j = 0;
  while (merged.size() < options.max_errors && (i < report.errors.size() || j < dups.size())) {
    if (j >= dups.size() || (i < report.errors.size() && report.errors[i].line < dups[j].line)) {
      merged.push_back(report.errors[i++]);
    } else {
      merged.push_back({dups[j++].line, IdProblem::kDuplicate});
    }
  }
  report.errors = std::move(merged);
  auto index = builder.Finish(threads);
  if (index.ok() && out != nullptr) *out = std::move(report);
  return index;
}

}  // namespace

Result<RegistryIndex> RegistryIndex::FromCsvFile(const std::string& path, const CsvLayout& layout,
                                                 const ScanOptions& options, ScanReport* report) {
  DOUDI_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> src, FileSource::Open(path));
  return BuildFromSource(*src, layout, options, report);
}

Result<RegistryIndex> RegistryIndex::FromCsvBytes(std::string_view csv, const CsvLayout& layout,
                                                  const ScanOptions& options, ScanReport* report) {
  MemorySource src(csv);
  return BuildFromSource(src, layout, options, report);
}

}  // namespace doudi::monitoring

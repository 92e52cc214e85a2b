#include "monitoring/match_engine.h"

#include "monitoring/match_blocks.h"
#include "monitoring/match_rows.h"
#include "monitoring/match_table.h"

// The engine in files (all internal headers in namespace engine):
//   match_rows.h/.cc     ids validated and packed, rows walked and split (the hot loop, inline)
//   match_blocks.h/.cc   inputs (memory, file), the block runner, the layout of an input
//   match_table.h        the hash table with its filter
//   match_index.cc       RegistryIndex: building the table from ids or a CSV
//   match_engine.cc      matching a feed against the index (this file)

namespace doudi::monitoring {

using namespace engine;

// ---------------------------------------------------------------------------------------------
// Matching a feed.
// ---------------------------------------------------------------------------------------------
namespace {

struct LocalMatch {
  uint64_t line;    // local to the block
  uint64_t offset;  // absolute
  uint32_t row;
  uint32_t field_begin;
  uint32_t field_count;
};

struct FeedBlock {
  BlockCounts counts;
  std::vector<LocalMatch> matches;
  std::vector<FieldRef> fields;
  std::string arena;
};

// Probes a block's valid rows in two prefetched stages, so that the cache misses of many rows
// overlap instead of following one another: rows wait in a batch while their filter words
// load; those that pass wait in a second batch while their table slots load.
class BlockProber {
 public:
  BlockProber(const RegistryIndex::Table& t, FeedBlock* out, const char* begin, uint64_t begin_offset,
              char delim, bool with_fields)
      : t_(t), out_(out), begin_(begin), begin_offset_(begin_offset), delim_(delim), with_fields_(with_fields) {}

  void Add(uint64_t key, uint64_t line, const char* row, const char* row_end) {
    const uint64_t h = Mix(key);
    const RegistryIndex::Table::Part* part = &t_.PartOf(h);
    const uint64_t g = h << t_.pbits;
    __builtin_prefetch(part->FilterWord(g));
    first_[n1_++] = {key, h, g, part, line, row, row_end};
    if (n1_ == kBatch) FlushFilter();
  }
  void Finish() {
    FlushFilter();
    FlushTable();
  }

 private:
  static constexpr int kBatch = 16;
  struct Pending {
    uint64_t key;
    uint64_t h;
    uint64_t g;  // h without the part bits; in the second stage, the bucket
    const RegistryIndex::Table::Part* part;
    uint64_t line;
    const char* row;
    const char* row_end;
  };

  void FlushFilter() {
    for (int j = 0; j < n1_; ++j) {
      const Pending& q = first_[j];
      if (!q.part->MayContain(q.g, q.h)) continue;
      const uint64_t b = q.part->BucketOf(q.g);
      __builtin_prefetch(&q.part->buckets[b]);
      second_[n2_] = q;
      second_[n2_].g = b;
      if (++n2_ == kBatch) FlushTable();
    }
    n1_ = 0;
  }
  void FlushTable() {
    for (int j = 0; j < n2_; ++j) {
      const Pending& q = second_[j];
      const int64_t row = q.part->Probe(q.key, q.g);
      if (row < 0) continue;
      LocalMatch m{q.line, begin_offset_ + static_cast<uint64_t>(q.row - begin_), static_cast<uint32_t>(row), 0, 0};
      if (with_fields_) {
        m.field_begin = static_cast<uint32_t>(out_->fields.size());
        SplitInto(q.row, q.row_end, delim_, &out_->arena, &out_->fields);
        m.field_count = static_cast<uint32_t>(out_->fields.size() - m.field_begin);
      }
      out_->matches.push_back(m);
    }
    n2_ = 0;
  }

  const RegistryIndex::Table& t_;
  FeedBlock* out_;
  const char* begin_;
  uint64_t begin_offset_;
  char delim_;
  bool with_fields_;
  Pending first_[kBatch];
  Pending second_[kBatch];
  int n1_ = 0;
  int n2_ = 0;
};

Result<ScanReport> MatchSource(const RegistryIndex& index, const Source& src,
                               const CsvLayout& layout, const ScanOptions& options,
                               const MatchCallback& on_matches) {
  const RegistryIndex::Table* table = RegistryIndexBuilder::TableOf(index);
  if (table == nullptr) return Status::FailedPrecondition("registry index was moved from");
  ScanReport report;
  report.bytes = src.size();
  DOUDI_ASSIGN_OR_RETURN(const ScanInput in, PrepareScan(src, layout, options));
  const RowRules& rules = in.rules;
  const BlockPlan& plan = in.plan;
  const bool with_fields = options.with_fields && static_cast<bool>(on_matches);

  std::vector<std::unique_ptr<FeedBlock>> results(plan.count);
  Spares<std::unique_ptr<FeedBlock>> spares;
  std::vector<FeedMatch> batch;
  std::vector<std::string_view> views;

  auto work = [&](size_t k, const char* begin, const char* end, uint64_t begin_offset) {
    std::unique_ptr<FeedBlock> block = spares.Take();
    if (block == nullptr) block = std::make_unique<FeedBlock>();
    block->counts = BlockCounts{};
    block->matches.clear();
    block->fields.clear();
    block->arena.clear();
    BlockProber prober(*table, block.get(), begin, begin_offset, rules.delim, with_fields);
    ScanRows(begin, end, k == 0 && rules.skip_header, rules, options.max_errors, &block->counts,
             [&](uint64_t key, uint64_t line, uint64_t, const char* p, const char* e) { prober.Add(key, line, p, e); });
    prober.Finish();
    results[k] = std::move(block);
  };

  auto done = [&](int, size_t k, uint64_t bytes_done) {
    std::unique_ptr<FeedBlock> block = std::move(results[k]);
    if (block != nullptr) {
      const uint64_t line_base = report.lines;
      AddBlockCounts(block->counts, options.max_errors, &report);
      report.matched += block->matches.size();
      if (on_matches && !block->matches.empty()) {
        views.clear();
        for (const FieldRef& f : block->fields) views.emplace_back(block->arena.data() + f.offset, f.size);
        batch.clear();
        for (const LocalMatch& m : block->matches) {
          batch.push_back({m.row, line_base + m.line, m.offset,
                           std::span<const std::string_view>(views.data() + m.field_begin, m.field_count)});
        }
        on_matches(batch);
      }
      spares.Give(std::move(block));
    }
    if (options.on_progress) options.on_progress(bytes_done, src.size());
  };
  DOUDI_RETURN_IF_ERROR(RunBlocks(src, plan, ThreadCount(options.threads), 1, options, work, done));
  return report;
}

}  // namespace

Result<ScanReport> MatchFeedFile(const RegistryIndex& index, const std::string& path,
                                 const CsvLayout& layout, const ScanOptions& options,
                                 const MatchCallback& on_matches) {
  DOUDI_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> src, FileSource::Open(path));
  return MatchSource(index, *src, layout, options, on_matches);
}

Result<ScanReport> MatchFeedBytes(const RegistryIndex& index, std::string_view csv,
                                  const CsvLayout& layout, const ScanOptions& options,
                                  const MatchCallback& on_matches) {
  MemorySource src(csv);
  return MatchSource(index, src, layout, options, on_matches);
}

}  // namespace doudi::monitoring

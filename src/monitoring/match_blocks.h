// The match engine's inputs and block runner (internal to match_*.cc; see match_engine.h): a
// CSV in memory or in a file made addressable block by block, cut into blocks of whole rows
// that every core works on, with the results delivered in file order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitoring/match_engine.h"
#include "monitoring/match_rows.h"

namespace doudi::monitoring::engine {

// ---------------------------------------------------------------------------------------------
// Inputs.
// ---------------------------------------------------------------------------------------------

struct Buffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  char* Reserve(size_t n) {
    if (n > capacity) {
      data.reset(new char[n]);
      capacity = n;
    }
    return data.get();
  }
};

// Bytes of the input made addressable: a pointer into memory, a mapping of part of a file,
// or a copy. Reset or destruction unmaps.
class View {
 public:
  View() = default;
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  ~View() { Reset(); }
  void Reset();
  const char* data() const { return data_; }

 private:
  friend class MemorySource;
  friend class FileSource;
  const char* data_ = nullptr;
  void* map_ = nullptr;
  size_t map_len_ = 0;
  Buffer copy_;
};

class Source {
 public:
  virtual ~Source() = default;
  uint64_t size() const { return size_; }
  // Makes the bytes [lo, hi) addressable at view->data(); drops what the view held before.
  virtual Status Get(uint64_t lo, uint64_t hi, View* view) const = 0;

 protected:
  uint64_t size_ = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) { size_ = data.size(); }
  Status Get(uint64_t lo, uint64_t, View* view) const override {
    view->Reset();
    view->data_ = data_.data() + lo;
    return Status::Ok();
  }

 private:
  std::string_view data_;
};

// A regular file, mapped block by block (MAP_POPULATE: one system call maps the block's pages
// from the page cache; no copy). Each block is unmapped when done, so the resident set stays
// at a few blocks. Falls back to pread when a mapping fails. The file must not shrink while
// it is read.
class FileSource final : public Source {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  Status Get(uint64_t lo, uint64_t hi, View* view) const override;

 private:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// The block runner.
// ---------------------------------------------------------------------------------------------

// Worker threads for a request (<= 0: one per core).
int ThreadCount(int requested);

Status Cancelled();

// How an input is cut into blocks.
struct BlockPlan {
  uint64_t data_begin = 0;  // after the byte-order mark
  uint64_t size = 0;
  uint64_t block_bytes = 1;
  size_t count = 0;

  BlockPlan(uint64_t begin, uint64_t sz, size_t requested) : data_begin(begin), size(sz) {
    block_bytes = std::clamp<uint64_t>(requested, 1, uint64_t{1} << 30);
    count = size > data_begin ? static_cast<size_t>((size - data_begin + block_bytes - 1) / block_bytes) : 0;
  }
};

// work(block, begin, end, begin_offset) processes the whole rows that start in the block, on
// any thread. Then, for each of `lanes` lanes, done(lane, block, bytes_done) is called for every
// block in block order, one call at a time per lane, by whichever worker finds the lane's next
// block ready (outside the lock, so the other workers keep going). Different lanes run at the
// same time on different workers: the registry inserts each partition of its table in its own
// lane.
using BlockWork = std::function<void(size_t, const char*, const char*, uint64_t)>;
using BlockDone = std::function<void(int, size_t, uint64_t)>;

Status RunBlocks(const Source& src, const BlockPlan& plan, int threads, int lanes, const ScanOptions& options,
                 const BlockWork& work, const BlockDone& done);

// A free list of per-block buffers, so that blocks reuse memory the process already touched
// instead of faulting in fresh pages.
template <class T>
class Spares {
 public:
  T Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.empty()) return T{};
    T t = std::move(items_.back());
    items_.pop_back();
    return t;
  }
  void Give(T t) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(t));
  }

 private:
  std::mutex mu_;
  std::vector<T> items_;
};

// ---------------------------------------------------------------------------------------------
// The layout of an input.
// ---------------------------------------------------------------------------------------------

// Reads the first line (the header) of the input.
Status ReadFirstLine(const Source& src, uint64_t begin, std::string* line);

// Checks the layout, skips a byte-order mark and finds the id column.
Status ResolveLayout(const Source& src, const CsvLayout& layout, const ScanOptions& options,
                     uint64_t* data_begin, RowRules* rules);

// Rows in the input, estimated from the line length of its first MiB.
uint64_t EstimateRows(const Source& src, uint64_t begin);

// Appends block errors (local lines) to the report, keeping the first max_errors.
void TakeErrors(const std::vector<RowError>& local, uint64_t line_base, size_t max_errors,
                std::vector<RowError>* out);

// Adds the next block's counts to the report: its errors (at lines after report->lines, keeping
// the first max_errors), lines, rows, blank lines and invalid rows.
void AddBlockCounts(const BlockCounts& c, size_t max_errors, ScanReport* report);

// An input ready to scan: how its rows are read (the resolved layout) and its blocks.
struct ScanInput {
  RowRules rules;
  BlockPlan plan{0, 0, 1};
};

// Resolves the layout of src (ResolveLayout) and cuts it into blocks of options.block_bytes.
Result<ScanInput> PrepareScan(const Source& src, const CsvLayout& layout, const ScanOptions& options);

}  // namespace doudi::monitoring::engine

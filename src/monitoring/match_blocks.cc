// The match engine's inputs and block runner (match_blocks.h).
#include "monitoring/match_blocks.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace doudi::monitoring::engine {

void View::Reset() {
  if (map_ != nullptr) ::munmap(map_, map_len_);
  map_ = nullptr;
  data_ = nullptr;
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status(Code::kNotFound, "not_found", "文件不存在", "path");
    return Status::Internal("open " + path + ": " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("path", "不是普通文件");
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto src = std::unique_ptr<FileSource>(new FileSource(fd, path));
  src->size_ = static_cast<uint64_t>(st.st_size);
  return src;
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::Get(uint64_t lo, uint64_t hi, View* view) const {
  view->Reset();
  static const uint64_t kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t at = lo & ~(kPage - 1);
  if (hi > at) {
    void* m = ::mmap(nullptr, static_cast<size_t>(hi - at), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_,
                     static_cast<off_t>(at));
    if (m != MAP_FAILED) {
      view->map_ = m;
      view->map_len_ = static_cast<size_t>(hi - at);
      view->data_ = static_cast<const char*>(m) + (lo - at);
      return Status::Ok();
    }
  }
  char* dst = view->copy_.Reserve(static_cast<size_t>(hi - lo) + 1);
  for (uint64_t pos = lo; pos < hi;) {
    const ssize_t got = ::pread(fd_, dst + (pos - lo), static_cast<size_t>(hi - pos), static_cast<off_t>(pos));
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("read " + path_ + ": " + std::strerror(errno));
    }
    if (got == 0) return Status::Internal("read " + path_ + ": file shrank while reading");
    pos += static_cast<uint64_t>(got);
  }
  view->data_ = dst;
  return Status::Ok();
}

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

Status Cancelled() { return Status::FailedPrecondition("已取消"); }

namespace {

// The whole rows that start in block k, read into *view: [*begin, *end), or *begin null when
// none does (a row longer than the block). A row starts in the block at its first byte (block
// 0) or just after the first "\n" at or after its first byte less one; the last one ends at the
// first "\n" at or after the block's last byte, read further until it is found. *offset is
// *begin's offset in the input.
Status FindBlockRows(const Source& src, const BlockPlan& plan, size_t k, View* view, const char** begin,
                     const char** end, uint64_t* offset) {
  const uint64_t lo = plan.data_begin + k * plan.block_bytes;
  const uint64_t hi = std::min(lo + plan.block_bytes, plan.size);
  const uint64_t read_lo = k == 0 ? lo : lo - 1;
  *begin = *end = nullptr;
  for (uint64_t tail = 4096;; tail *= 4) {
    const uint64_t read_hi = std::min(hi + tail, plan.size);
    DOUDI_RETURN_IF_ERROR(src.Get(read_lo, read_hi, view));
    const char* base = view->data();
    if (k == 0) {
      *begin = base;
    } else {
      const char* q = static_cast<const char*>(std::memchr(base, '\n', hi - read_lo));
      *begin = (q != nullptr && static_cast<uint64_t>(q + 1 - base) + read_lo < hi) ? q + 1 : nullptr;
    }
    if (*begin == nullptr) return Status::Ok();
    *offset = read_lo + static_cast<uint64_t>(*begin - base);
    const char* from = base + (hi - 1 - read_lo);
    const char* q = static_cast<const char*>(std::memchr(from, '\n', read_hi - (hi - 1)));
    if (q != nullptr) {
      *end = q + 1;
      return Status::Ok();
    }
    if (read_hi == plan.size) {
      *end = base + (read_hi - read_lo);
      return Status::Ok();
    }
  }
}

// One RunBlocks: the workers take blocks in turn; a finished block is delivered on each lane in
// block order.
class BlockRunner {
 public:
  BlockRunner(const Source& src, const BlockPlan& plan, int lanes, const ScanOptions& options, const BlockWork& work,
              const BlockDone& done)
      : src_(src), plan_(plan), lanes_(lanes), options_(options), work_(work), done_(done),
        finished_(plan.count), next_done_(lanes, 0), delivering_(lanes, 0) {}

  Status Run(int threads) {
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w) pool.emplace_back([this] { Work(); });
    Work();
    for (auto& t : pool) t.join();
    if (error_.ok()) Deliver();  // nothing is left; kept for safety
    return error_;
  }

 private:
  void Fail(Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(st);
    failed_ = true;
  }

  // Delivers ready blocks on any free lane until none is left.
  void Deliver() {
    int lane = -1;
    size_t d = 0;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (lane >= 0) delivering_[lane] = 0;
        lane = -1;
        for (int l = 0; l < lanes_ && !failed_; ++l) {
          if (!delivering_[l] && next_done_[l] < plan_.count && finished_[next_done_[l]]) {
            lane = l;
            delivering_[l] = 1;
            d = next_done_[l]++;
            break;
          }
        }
        if (lane < 0) return;
      }
      done_(lane, d, std::min(plan_.data_begin + (d + 1) * plan_.block_bytes, plan_.size));
    }
  }

  // A worker: takes the next block, works on its rows, marks it finished and delivers.
  void Work() {
    View view;
    for (;;) {
      if (failed_.load(std::memory_order_relaxed)) return;
      const size_t k = next_.fetch_add(1);
      if (k >= plan_.count) return;
      if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) return Fail(Cancelled());
      const char* begin = nullptr;
      const char* end = nullptr;
      uint64_t offset = 0;
      Status st = FindBlockRows(src_, plan_, k, &view, &begin, &end, &offset);
      if (!st.ok()) return Fail(std::move(st));
      if (begin != nullptr) work_(k, begin, end, offset);
      view.Reset();
      {
        std::lock_guard<std::mutex> lock(mu_);
        finished_[k] = 1;
      }
      Deliver();
    }
  }

  const Source& src_;
  const BlockPlan& plan_;
  const int lanes_;
  const ScanOptions& options_;
  const BlockWork& work_;
  const BlockDone& done_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  Status error_;                     // guarded by mu_
  std::vector<uint8_t> finished_;    // guarded by mu_
  std::vector<size_t> next_done_;    // guarded by mu_
  std::vector<uint8_t> delivering_;  // guarded by mu_
};

}  // namespace

Status RunBlocks(const Source& src, const BlockPlan& plan, int threads, int lanes, const ScanOptions& options,
                 const BlockWork& work, const BlockDone& done) {
  if (plan.count == 0) return Status::Ok();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::min<size_t>(plan.count, 256))));
  BlockRunner runner(src, plan, lanes, options, work, done);
  return runner.Run(threads);
}

// Reads the first line (the header) of the input.
Status ReadFirstLine(const Source& src, uint64_t begin, std::string* line) {
  View view;
  uint64_t want = 4096;
  for (;;) {
    const uint64_t hi = std::min(begin + want, src.size());
    DOUDI_RETURN_IF_ERROR(src.Get(begin, hi, &view));
    const char* base = view.data();
    const char* q = static_cast<const char*>(std::memchr(base, '\n', hi - begin));
    if (q != nullptr || hi == src.size()) {
      const char* e = q ? q : base + (hi - begin);
      if (e > base && e[-1] == '\r') --e;
      line->assign(base, e);
      return Status::Ok();
    }
    want *= 4;
  }
}

// Checks the layout, skips a byte-order mark and finds the id column.
Status ResolveLayout(const Source& src, const CsvLayout& layout, const ScanOptions& options,
                     uint64_t* data_begin, RowRules* rules) {
  if (layout.delimiter == '"' || layout.delimiter == '\n' || layout.delimiter == '\r')
    return Status::InvalidArgument("delimiter", "分隔符不能是引号或换行符");
  *data_begin = 0;
  if (src.size() >= 3) {
    View view;
    DOUDI_RETURN_IF_ERROR(src.Get(0, 3, &view));
    if (std::memcmp(view.data(), "\xEF\xBB\xBF", 3) == 0) *data_begin = 3;
  }
  rules->delim = layout.delimiter;
  rules->id_column = layout.id_column;
  rules->skip_header = layout.has_header;
  rules->today = options.today != 0 ? options.today : TodayYyyymmdd();
  if (!layout.id_column_name.empty()) {
    if (!layout.has_header) return Status::InvalidArgument("id_column_name", "按列名查找身份证号列需要表头");
    std::string header;
    DOUDI_RETURN_IF_ERROR(ReadFirstLine(src, *data_begin, &header));
    const std::vector<std::string> names = SplitCsvRow(header, layout.delimiter);
    size_t found = names.size();
    for (size_t i = 0; i < names.size() && found == names.size(); ++i) {
      std::string_view n = names[i];
      while (!n.empty() && IsSpace(n.front())) n.remove_prefix(1);
      while (!n.empty() && IsSpace(n.back())) n.remove_suffix(1);
      if (n == layout.id_column_name) found = i;
    }
    if (found == names.size())
      return Status::InvalidArgument("id_column_name", "表头中没有列“" + layout.id_column_name + "”");
    rules->id_column = found;
  }
  return Status::Ok();
}

// Rows in the input, estimated from the line length of its first MiB.
uint64_t EstimateRows(const Source& src, uint64_t begin) {
  const uint64_t sample = std::min<uint64_t>(src.size() - std::min(begin, src.size()), 1 << 20);
  if (sample == 0) return 0;
  View view;
  if (!src.Get(begin, begin + sample, &view).ok()) return 0;
  uint64_t lines = 1;
  for (const char* p = view.data(); (p = FindNewline(p, view.data() + sample)) != nullptr; ++p) ++lines;
  return (src.size() - begin) / std::max<uint64_t>(1, sample / lines) + 1;
}

// Appends block errors (local lines) to the report, keeping the first max_errors.
void TakeErrors(const std::vector<RowError>& local, uint64_t line_base, size_t max_errors,
                std::vector<RowError>* out) {
  for (const RowError& e : local) {
    if (out->size() >= max_errors) return;
    out->push_back({line_base + e.line, e.problem});
  }
}

void AddBlockCounts(const BlockCounts& c, size_t max_errors, ScanReport* report) {
  TakeErrors(c.errors, report->lines, max_errors, &report->errors);
  report->lines += c.lines;
  report->rows += c.rows;
  report->blank_lines += c.blank;
  report->invalid += c.invalid;
}

Result<ScanInput> PrepareScan(const Source& src, const CsvLayout& layout, const ScanOptions& options) {
  ScanInput in;
  uint64_t data_begin;
  DOUDI_RETURN_IF_ERROR(ResolveLayout(src, layout, options, &data_begin, &in.rules));
  in.plan = BlockPlan(data_begin, src.size(), options.block_bytes);
  return in;
}

}  // namespace doudi::monitoring::engine

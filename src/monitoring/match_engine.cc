#include "monitoring/match_engine.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/date.h"

namespace doudi::monitoring {

// ---------------------------------------------------------------------------------------------
// Citizen ids: validation and packing without allocation.
// ---------------------------------------------------------------------------------------------
namespace {

// The largest value PackCitizenId produces: 17 nines and check value 10.
constexpr uint64_t kMaxPacked = 99999999999999999ULL * 11 + 10;
constexpr unsigned kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

// Eight bytes with the first byte of `p` in the low byte (on any byte order).
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// True when all eight bytes are ASCII digits. A borrow or carry between bytes can only start
// at a byte that is itself flagged, so "any byte flagged" is exact.
inline bool EightDigits(uint64_t w) {
  return ((w | (w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) &
          0x8080808080808080ULL) == 0;
}

// Value of eight ASCII digits (first digit in the low byte): three multiplications.
inline uint32_t Parse8(uint64_t w) {
  w -= 0x3030303030303030ULL;
  w = (w * 10) + (w >> 8);
  w = (((w & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
       (((w >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
  return static_cast<uint32_t>(w);
}

// ParseCitizenId's date rule: IsValidDate and year >= 1900.
inline bool RealBirthDate(uint32_t ymd) {
  static constexpr uint8_t kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const uint32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  uint32_t max = kDays[m];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return d <= max;
}

// Validates the 18 bytes at `s` (the caller checked the length) and packs them.
inline IdProblem ValidatePack18(const char* s, uint32_t today, uint64_t* packed) {
  const uint64_t w0 = Load64(s), w1 = Load64(s + 8);
  const unsigned c16 = static_cast<unsigned char>(s[16]) - unsigned{'0'};
  if (!EightDigits(w0) || !EightDigits(w1) || c16 > 9) return IdProblem::kNotDigits;
  const unsigned last = static_cast<unsigned char>(s[17]);
  unsigned check;
  if (last - '0' <= 9u) {
    check = last - '0';
  } else if (last == 'X' || last == 'x') {
    check = 10;
  } else {
    return IdProblem::kCheckSyntax;
  }
  const uint32_t ymd = Parse8(Load64(s + 6));
  if (!RealBirthDate(ymd)) return IdProblem::kBadBirthDate;
  if (ymd > today) return IdProblem::kFutureBirthDate;
  const uint64_t d0 = w0 - 0x3030303030303030ULL, d1 = w1 - 0x3030303030303030ULL;
  unsigned sum = c16 * kWeights[16];
  for (int i = 0; i < 8; ++i) {
    sum += static_cast<unsigned>((d0 >> (8 * i)) & 0xFF) * kWeights[i];
    sum += static_cast<unsigned>((d1 >> (8 * i)) & 0xFF) * kWeights[8 + i];
  }
  // "10X98765432"[sum % 11] as a value 0..10 (X = 10).
  if (check != (12 - sum % 11) % 11) return IdProblem::kCheckMismatch;
  *packed = (uint64_t{Parse8(w0)} * 1000000000ULL + uint64_t{Parse8(w1)} * 10 + c16) * 11 + check;
  return IdProblem::kNone;
}

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

inline bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

const char* IdProblemReason(IdProblem problem) {
  switch (problem) {
    case IdProblem::kNone: return "ok";
    case IdProblem::kMissingColumn: return "missing_column";
    case IdProblem::kLength: return "length";
    case IdProblem::kNotDigits: return "not_digits";
    case IdProblem::kCheckSyntax: return "check_syntax";
    case IdProblem::kBadBirthDate: return "bad_birth_date";
    case IdProblem::kFutureBirthDate: return "future_birth_date";
    case IdProblem::kCheckMismatch: return "check_mismatch";
    case IdProblem::kDuplicate: return "duplicate";
  }
  return "unknown";
}

const char* IdProblemMessage(IdProblem problem) {
  switch (problem) {
    case IdProblem::kNone: return "";
    case IdProblem::kMissingColumn: return "缺少身份证号列";
    case IdProblem::kLength: return "身份证号应为18位";
    case IdProblem::kNotDigits: return "身份证号前17位应为数字";
    case IdProblem::kCheckSyntax: return "身份证号校验位应为数字或X";
    case IdProblem::kBadBirthDate: return "身份证号中的出生日期无效";
    case IdProblem::kFutureBirthDate: return "身份证号中的出生日期晚于今天";
    case IdProblem::kCheckMismatch: return "身份证号校验位错误";
    case IdProblem::kDuplicate: return "身份证号重复";
  }
  return "未知错误";
}

IdProblem ValidateAndPackCitizenId(std::string_view id, uint32_t today, uint64_t* packed) {
  if (id.size() != 18) return IdProblem::kLength;
  return ValidatePack18(id.data(), today, packed);
}

uint32_t TodayYyyymmdd() {
  const std::string t = TodayShanghai();  // YYYY-MM-DD
  uint32_t v = 0;
  for (char c : t)
    if (c >= '0' && c <= '9') v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

// ---------------------------------------------------------------------------------------------
// CSV rows.
// ---------------------------------------------------------------------------------------------
namespace {

struct FieldRef {
  uint32_t offset;
  uint32_t size;
};

// Splits [p, e) into unquoted fields appended to *arena, their places to *out.
void SplitInto(const char* p, const char* e, char delim, std::string* arena,
               std::vector<FieldRef>* out) {
  const char* f = p;
  for (;;) {
    const size_t start = arena->size();
    if (f < e && *f == '"') {
      ++f;
      while (f < e) {
        const char* q = static_cast<const char*>(std::memchr(f, '"', static_cast<size_t>(e - f)));
        if (q == nullptr) {  // unterminated: the rest of the row
          arena->append(f, e);
          f = e;
          break;
        }
        arena->append(f, q);
        if (q + 1 < e && q[1] == '"') {
          arena->push_back('"');
          f = q + 2;
        } else {
          f = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the delimiter is kept as written.
      const char* d = static_cast<const char*>(std::memchr(f, delim, static_cast<size_t>(e - f)));
      const char* stop = d ? d : e;
      arena->append(f, stop);
      f = stop;
    } else {
      const char* d = static_cast<const char*>(std::memchr(f, delim, static_cast<size_t>(e - f)));
      const char* stop = d ? d : e;
      arena->append(f, stop);
      f = stop;
    }
    out->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(arena->size() - start)});
    if (f >= e) return;
    ++f;  // the delimiter
  }
}

// How rows are read: the resolved layout.
struct RowRules {
  char delim = ',';
  size_t id_column = 0;
  bool skip_header = false;
  uint32_t today = 0;
};

// Result of reading one row's id.
enum class RowKind { kValid, kInvalid, kBlank };

// The general path: finds the id column with quoting, trims it, validates it. Also decides
// whether a row without an id is blank.
RowKind GenericId(const char* p, const char* e, const RowRules& rules, uint64_t* key,
                  IdProblem* problem) {
  constexpr size_t kCap = 64;
  char buf[kCap];
  size_t n = 0;
  bool present = false;
  const char delim = rules.delim;
  const char* f = p;
  size_t col = 0;
  for (;;) {
    const bool want = col == rules.id_column;
    auto put = [&](char c) {
      if (want) {
        if (n < kCap) buf[n] = c;
        ++n;
      }
    };
    if (f < e && *f == '"') {
      ++f;
      while (f < e) {
        if (*f == '"') {
          if (f + 1 < e && f[1] == '"') {
            put('"');
            f += 2;
            continue;
          }
          ++f;
          break;
        }
        put(*f++);
      }
      while (f < e && *f != delim) put(*f++);
    } else if (want) {
      while (f < e && *f != delim) put(*f++);
    } else {
      const char* d = static_cast<const char*>(std::memchr(f, delim, static_cast<size_t>(e - f)));
      f = d ? d : e;
    }
    if (want) {
      present = true;
      break;
    }
    if (f >= e) break;
    ++f;
    ++col;
  }
  // Blank: nothing but delimiters, spaces and quotes.
  auto blank = [&] {
    for (const char* c = p; c < e; ++c)
      if (*c != delim && *c != '"' && !IsSpace(*c)) return false;
    return true;
  };
  if (!present) {
    if (blank()) return RowKind::kBlank;
    *problem = IdProblem::kMissingColumn;
    return RowKind::kInvalid;
  }
  size_t b = 0, len = std::min(n, kCap);
  if (n <= kCap) {
    while (b < len && IsSpace(buf[b])) ++b;
    while (len > b && IsSpace(buf[len - 1])) --len;
  }
  if (len - b == 0 && blank()) return RowKind::kBlank;
  if (n > kCap || len - b != 18) {
    *problem = IdProblem::kLength;
    return RowKind::kInvalid;
  }
  *problem = ValidatePack18(buf + b, rules.today, key);
  return *problem == IdProblem::kNone ? RowKind::kValid : RowKind::kInvalid;
}

// Per-block counters.
struct BlockCounts {
  uint64_t lines = 0;
  uint64_t rows = 0;
  uint64_t blank = 0;
  uint64_t invalid = 0;
  std::vector<RowError> errors;  // lines local to the block (1-based)
};

// Walks the rows of [begin, end) (whole lines; the last may lack its "\n" only at the end of
// the input) and calls on_valid(key, local_line, local_row, row_begin, row_end) for each row
// with a valid id. The hot loop of the engine.
template <class OnValid>
inline void ScanRows(const char* begin, const char* end, bool skip_first, const RowRules& rules,
                     size_t max_errors, BlockCounts* counts, OnValid&& on_valid) {
  const char delim = rules.delim;
  const bool fast = rules.id_column == 0;
  uint64_t line = 0, rows = 0, blank = 0, invalid = 0;
  const char* p = begin;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    const char* e = le;
    if (e > p && e[-1] == '\r') --e;
    ++line;
    if (line == 1 && skip_first) {
      p = le + 1;
      continue;
    }
    if (e == p) {
      ++blank;
      p = le + 1;
      continue;
    }
    uint64_t key;
    const size_t len = static_cast<size_t>(e - p);
    if (fast && len >= 18 && (len == 18 || p[18] == delim) &&
        ValidatePack18(p, rules.today, &key) == IdProblem::kNone) {
      on_valid(key, line, rows, p, e);
      ++rows;
    } else {
      IdProblem problem = IdProblem::kNone;
      switch (GenericId(p, e, rules, &key, &problem)) {
        case RowKind::kValid:
          on_valid(key, line, rows, p, e);
          ++rows;
          break;
        case RowKind::kBlank:
          ++blank;
          break;
        case RowKind::kInvalid:
          ++invalid;
          ++rows;
          if (counts->errors.size() < max_errors) counts->errors.push_back({line, problem});
          break;
      }
    }
    p = le + 1;
  }
  counts->lines = line;
  counts->rows = rows;
  counts->blank = blank;
  counts->invalid = invalid;
}

// ---------------------------------------------------------------------------------------------
// Inputs and the block runner.
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

class Source {
 public:
  virtual ~Source() = default;
  uint64_t size() const { return size_; }
  // Points *out at the bytes [lo, hi), reading them into *buf when needed.
  virtual Status View(uint64_t lo, uint64_t hi, Buffer* buf, const char** out) const = 0;

 protected:
  uint64_t size_ = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) { size_ = data.size(); }
  Status View(uint64_t lo, uint64_t hi, Buffer*, const char** out) const override {
    *out = data_.data() + lo;
    return Status::Ok();
  }

 private:
  std::string_view data_;
};

class FileSource final : public Source {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR)
        return Status(Code::kNotFound, "not_found", "文件不存在", "path");
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
  ~FileSource() override { ::close(fd_); }

  Status View(uint64_t lo, uint64_t hi, Buffer* buf, const char** out) const override {
    char* dst = buf->Reserve(static_cast<size_t>(hi - lo));
    uint64_t at = lo;
    while (at < hi) {
      const ssize_t got = ::pread(fd_, dst + (at - lo), static_cast<size_t>(hi - at),
                                  static_cast<off_t>(at));
      if (got < 0) {
        if (errno == EINTR) continue;
        return Status::Internal("read " + path_ + ": " + std::strerror(errno));
      }
      if (got == 0) return Status::Internal("read " + path_ + ": file shrank while reading");
      at += static_cast<uint64_t>(got);
    }
    *out = dst;
    return Status::Ok();
  }

 private:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

Status Cancelled() { return Status::FailedPrecondition("已取消"); }

// How a file is cut into blocks.
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

// work(worker, block, begin, end, begin_offset) processes the whole rows that start in the
// block; done(block, bytes_done) is then called in block order, one call at a time.
using BlockWork = std::function<void(int, size_t, const char*, const char*, uint64_t)>;
using BlockDone = std::function<void(size_t, uint64_t)>;

Status RunBlocks(const Source& src, const BlockPlan& plan, int threads, const ScanOptions& options,
                 const BlockWork& work, const BlockDone& done) {
  if (plan.count == 0) return Status::Ok();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::min<size_t>(plan.count, 1024))));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status error;
  std::vector<uint8_t> finished(plan.count, 0);
  size_t next_done = 0;

  auto fail = [&](Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(st);
    failed = true;
  };

  auto worker = [&](int w) {
    Buffer buf;
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const size_t k = next.fetch_add(1);
      if (k >= plan.count) return;
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
        fail(Cancelled());
        return;
      }
      const uint64_t lo = plan.data_begin + k * plan.block_bytes;
      const uint64_t hi = std::min(lo + plan.block_bytes, plan.size);
      const uint64_t read_lo = k == 0 ? lo : lo - 1;
      uint64_t tail = 4096;
      const char* begin = nullptr;
      const char* end = nullptr;
      const char* base = nullptr;
      for (;;) {
        const uint64_t read_hi = std::min(hi + tail, plan.size);
        Status st = src.View(read_lo, read_hi, &buf, &base);
        if (!st.ok()) return fail(std::move(st));
        // A row starts in this block at `lo` (block 0) or just after the first "\n" at or
        // after lo - 1.
        if (k == 0) {
          begin = base;
        } else {
          const char* q = static_cast<const char*>(std::memchr(base, '\n', hi - read_lo));
          begin = (q != nullptr && static_cast<uint64_t>(q + 1 - base) + read_lo < hi) ? q + 1 : nullptr;
        }
        if (begin == nullptr) break;  // a row longer than the block: no row starts here
        // The last row that starts before `hi` ends at the first "\n" at or after hi - 1.
        const char* from = base + (hi - 1 - read_lo);
        const char* q = static_cast<const char*>(std::memchr(from, '\n', read_hi - (hi - 1)));
        if (q != nullptr) {
          end = q + 1;
          break;
        }
        if (read_hi == plan.size) {
          end = base + (read_hi - read_lo);
          break;
        }
        tail *= 4;
      }
      if (begin != nullptr) work(w, k, begin, end, read_lo + static_cast<uint64_t>(begin - base));
      std::lock_guard<std::mutex> lock(mu);
      finished[k] = 1;
      while (next_done < plan.count && finished[next_done] && !failed) {
        const size_t d = next_done++;
        const uint64_t done_bytes = std::min(plan.data_begin + (d + 1) * plan.block_bytes, plan.size);
        done(d, done_bytes);
      }
    }
  };

  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  worker(0);
  for (auto& t : pool) t.join();
  return error;
}

// Reads the first line (the header) of the input.
Status ReadFirstLine(const Source& src, uint64_t begin, std::string* line) {
  Buffer buf;
  uint64_t want = 4096;
  for (;;) {
    const uint64_t hi = std::min(begin + want, src.size());
    const char* base;
    DOUDI_RETURN_IF_ERROR(src.View(begin, hi, &buf, &base));
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
    Buffer buf;
    const char* p;
    DOUDI_RETURN_IF_ERROR(src.View(0, 3, &buf, &p));
    if (std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) *data_begin = 3;
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

// Appends block errors (local lines) to the report, keeping the first max_errors.
void TakeErrors(const std::vector<RowError>& local, uint64_t line_base, size_t max_errors,
                std::vector<RowError>* out) {
  for (const RowError& e : local) {
    if (out->size() >= max_errors) return;
    out->push_back({line_base + e.line, e.problem});
  }
}

inline uint64_t Mix(uint64_t x) {  // MurmurHash3's fmix64: a bijection with full avalanche
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Anonymous memory, zero-filled, 2 MiB-aligned and marked for transparent huge pages.
class PageMemory {
 public:
  PageMemory() = default;
  explicit PageMemory(size_t bytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    map_bytes_ = bytes + kHuge;
    void* p = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      map_ = nullptr;
      map_bytes_ = 0;
      return;
    }
    map_ = static_cast<char*>(p);
    data_ = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(map_) + kHuge - 1) & ~(kHuge - 1));
    bytes_ = bytes;
#ifdef MADV_HUGEPAGE
    ::madvise(data_, bytes_, MADV_HUGEPAGE);
#endif
  }
  PageMemory(PageMemory&& o) noexcept { *this = std::move(o); }
  PageMemory& operator=(PageMemory&& o) noexcept {
    std::swap(map_, o.map_);
    std::swap(map_bytes_, o.map_bytes_);
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~PageMemory() {
    if (map_ != nullptr) ::munmap(map_, map_bytes_);
  }
  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  char* map_ = nullptr;
  size_t map_bytes_ = 0;
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The table: linear probing over 2^bits slots of packed keys (0 = empty) with the registry
// rows in a parallel array (touched only on a hit). The slot of a key is the top bits of
// Mix(key). The slots are cut into 2^pbits partitions by those top bits, and a probe wraps
// around inside its partition, so that each thread can fill its own partitions alone.
// ---------------------------------------------------------------------------------------------
struct RegistryIndex::Table {
  PageMemory key_mem, row_mem;
  uint64_t* keys = nullptr;
  uint32_t* rows = nullptr;
  int bits = 0;
  int pbits = 0;
  int shift = 64;         // 64 - bits
  uint64_t part_mask = 0;  // slots per partition - 1
  size_t count = 0;

  static std::unique_ptr<Table> Create(int bits) {
    auto t = std::make_unique<Table>();
    t->bits = bits;
    t->pbits = std::clamp(bits - 12, 0, 6);
    t->shift = 64 - bits;
    t->part_mask = (uint64_t{1} << (bits - t->pbits)) - 1;
    const uint64_t cap = uint64_t{1} << bits;
    t->key_mem = PageMemory(cap * sizeof(uint64_t));
    t->row_mem = PageMemory(cap * sizeof(uint32_t));
    if (t->key_mem.data() == nullptr || t->row_mem.data() == nullptr) return nullptr;
    t->keys = reinterpret_cast<uint64_t*>(t->key_mem.data());
    t->rows = reinterpret_cast<uint32_t*>(t->row_mem.data());
    return t;
  }
  uint64_t capacity() const { return uint64_t{1} << bits; }
  uint64_t Slot(uint64_t key) const { return Mix(key) >> shift; }
  uint64_t Next(uint64_t i) const { return ((i + 1) & part_mask) | (i & ~part_mask); }
  // The row of `key` probing from `slot` (= Slot(key)), or -1.
  int64_t Probe(uint64_t key, uint64_t slot) const {
    for (uint64_t i = slot;; i = Next(i)) {
      const uint64_t k = keys[i];
      if (k == key) return rows[i];
      if (k == 0) return -1;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Building the index.
// ---------------------------------------------------------------------------------------------
namespace {

struct Entry {
  uint64_t key;
  uint32_t row;   // local to its block
  uint32_t line;  // local to its block
};

struct EntryBlock {
  std::vector<Entry> entries;
  uint64_t row_base = 0;
  uint64_t line_base = 0;
};

struct Dup {
  uint64_t row;
  uint64_t line;
};

int BitsFor(uint64_t n) {
  // Load factor at most 0.7.
  const uint64_t want = n + n * 3 / 7 + 1;
  int bits = 12;
  while ((uint64_t{1} << bits) < want) ++bits;
  return bits;
}

// Inserts all entries, in block order, each thread its own partitions. Returns false when a
// partition filled up (the caller retries with a larger table).
bool FillTable(RegistryIndex::Table* t, const std::vector<EntryBlock>& blocks, int threads,
               std::vector<Dup>* dups) {
  const size_t parts = size_t{1} << t->pbits;
  const int pshift = t->bits - t->pbits;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(parts)));
  std::atomic<bool> overflow{false};
  std::vector<std::vector<Dup>> thread_dups(threads);
  std::vector<size_t> thread_count(threads, 0);

  auto fill = [&](int w) {
    const uint64_t p0 = parts * w / threads, p1 = parts * (w + 1) / threads;
    std::vector<uint64_t> used(parts, 0);
    const uint64_t limit = t->part_mask;  // leave one slot empty per partition
    size_t count = 0;
    constexpr size_t kGroup = 16;
    uint64_t slots[kGroup];
    for (const EntryBlock& b : blocks) {
      const Entry* es = b.entries.data();
      const size_t n = b.entries.size();
      for (size_t g = 0; g < n; g += kGroup) {
        const size_t m = std::min(kGroup, n - g);
        for (size_t j = 0; j < m; ++j) {
          slots[j] = t->Slot(es[g + j].key);
          const uint64_t part = slots[j] >> pshift;
          if (part >= p0 && part < p1) {
            __builtin_prefetch(&t->keys[slots[j]], 1);
            __builtin_prefetch(&t->rows[slots[j]], 1);
          }
        }
        for (size_t j = 0; j < m; ++j) {
          const uint64_t part = slots[j] >> pshift;
          if (part < p0 || part >= p1) continue;
          const Entry& e = es[g + j];
          for (uint64_t i = slots[j];; i = t->Next(i)) {
            const uint64_t k = t->keys[i];
            if (k == 0) {
              if (++used[part] > limit) {
                overflow = true;
                return;
              }
              t->keys[i] = e.key;
              t->rows[i] = static_cast<uint32_t>(b.row_base + e.row);
              ++count;
              break;
            }
            if (k == e.key) {
              thread_dups[w].push_back({b.row_base + e.row, b.line_base + e.line});
              break;
            }
          }
        }
      }
    }
    thread_count[w] = count;
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(fill, w);
  fill(0);
  for (auto& th : pool) th.join();
  if (overflow) return false;
  t->count = 0;
  for (int w = 0; w < threads; ++w) {
    t->count += thread_count[w];
    dups->insert(dups->end(), thread_dups[w].begin(), thread_dups[w].end());
  }
  std::sort(dups->begin(), dups->end(), [](const Dup& a, const Dup& b) { return a.line < b.line; });
  return true;
}

}  // namespace

struct RegistryIndexBuilder {
  static Result<RegistryIndex> Build(const std::vector<EntryBlock>& blocks, int threads,
                                     std::vector<Dup>* dups) {
    uint64_t n = 0;
    for (const EntryBlock& b : blocks) n += b.entries.size();
    for (int bits = BitsFor(n);; ++bits) {
      if (bits > 40) return Status::Internal("registry index: table too large");
      std::unique_ptr<RegistryIndex::Table> t = RegistryIndex::Table::Create(bits);
      if (t == nullptr) return Status::Internal("registry index: out of memory");
      dups->clear();
      if (FillTable(t.get(), blocks, threads, dups)) return RegistryIndex(std::move(t));
    }
  }
  static const RegistryIndex::Table* TableOf(const RegistryIndex& index) { return index.table_.get(); }
};

RegistryIndex::RegistryIndex(std::unique_ptr<Table> table) : table_(std::move(table)) {}
RegistryIndex::RegistryIndex(RegistryIndex&&) noexcept = default;
RegistryIndex& RegistryIndex::operator=(RegistryIndex&&) noexcept = default;
RegistryIndex::~RegistryIndex() = default;

size_t RegistryIndex::size() const { return table_ ? table_->count : 0; }

size_t RegistryIndex::memory_bytes() const {
  return table_ ? table_->key_mem.bytes() + table_->row_mem.bytes() : 0;
}

std::optional<uint32_t> RegistryIndex::Find(uint64_t packed) const {
  if (!table_ || packed == 0) return std::nullopt;
  const int64_t row = table_->Probe(packed, table_->Slot(packed));
  if (row < 0) return std::nullopt;
  return static_cast<uint32_t>(row);
}

Result<RegistryIndex> RegistryIndex::FromPacked(std::span<const uint64_t> packed, int threads) {
  if (packed.size() >= UINT32_MAX) return Status::InvalidArgument("ids", "登记人数超过上限");
  std::vector<EntryBlock> blocks(1);
  blocks[0].entries.reserve(packed.size());
  for (size_t i = 0; i < packed.size(); ++i) {
    if (!PlausiblePacked(packed[i]))
      return Status::InvalidArgument("ids[" + std::to_string(i) + "]", "不是有效的身份证号编码");
    blocks[0].entries.push_back({packed[i], static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
  }
  std::vector<Dup> dups;
  auto index = RegistryIndexBuilder::Build(blocks, ThreadCount(threads), &dups);
  if (index.ok() && !dups.empty())
    return Status::Conflict("ids[" + std::to_string(dups[0].row) + "]", "身份证号重复");
  return index;
}

Result<RegistryIndex> RegistryIndex::FromIds(std::span<const std::string_view> ids, uint32_t today,
                                             int threads) {
  if (ids.size() >= UINT32_MAX) return Status::InvalidArgument("ids", "登记人数超过上限");
  if (today == 0) today = TodayYyyymmdd();
  std::vector<EntryBlock> blocks(1);
  blocks[0].entries.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    uint64_t key;
    const IdProblem p = ValidateAndPackCitizenId(ids[i], today, &key);
    if (p != IdProblem::kNone)
      return Status::InvalidArgument("ids[" + std::to_string(i) + "]", IdProblemMessage(p));
    blocks[0].entries.push_back({key, static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
  }
  std::vector<Dup> dups;
  auto index = RegistryIndexBuilder::Build(blocks, ThreadCount(threads), &dups);
  if (index.ok() && !dups.empty())
    return Status::Conflict("ids[" + std::to_string(dups[0].row) + "]", "身份证号重复");
  return index;
}

namespace {

Result<RegistryIndex> BuildFromSource(const Source& src, const CsvLayout& layout,
                                      const ScanOptions& options, ScanReport* out) {
  ScanReport report;
  report.bytes = src.size();
  uint64_t data_begin;
  RowRules rules;
  DOUDI_RETURN_IF_ERROR(ResolveLayout(src, layout, options, &data_begin, &rules));
  const BlockPlan plan(data_begin, src.size(), options.block_bytes);
  const int threads = ThreadCount(options.threads);
  std::vector<EntryBlock> blocks(plan.count);
  std::vector<BlockCounts> counts(plan.count);
  uint64_t line_base = 0, row_base = 0;

  auto work = [&](int, size_t k, const char* begin, const char* end, uint64_t) {
    std::vector<Entry>& entries = blocks[k].entries;
    entries.reserve(static_cast<size_t>(end - begin) / 32);
    ScanRows(begin, end, k == 0 && rules.skip_header, rules, options.max_errors, &counts[k],
             [&](uint64_t key, uint64_t line, uint64_t row, const char*, const char*) {
               entries.push_back({key, static_cast<uint32_t>(row), static_cast<uint32_t>(line)});
             });
  };
  auto done = [&](size_t k, uint64_t bytes_done) {
    BlockCounts& c = counts[k];
    blocks[k].line_base = line_base;
    blocks[k].row_base = row_base;
    TakeErrors(c.errors, line_base, options.max_errors, &report.errors);
    report.lines += c.lines;
    report.rows += c.rows;
    report.blank_lines += c.blank;
    report.invalid += c.invalid;
    line_base += c.lines;
    row_base += c.rows;
    c = BlockCounts{};
    if (options.on_progress) options.on_progress(bytes_done, src.size());
  };
  DOUDI_RETURN_IF_ERROR(RunBlocks(src, plan, threads, options, work, done));
  if (report.rows >= UINT32_MAX) return Status::InvalidArgument("registry", "登记人数超过上限");

  std::vector<Dup> dups;
  auto index = RegistryIndexBuilder::Build(blocks, threads, &dups);
  if (!index.ok()) return index.status();
  report.duplicates = dups.size();
  // Merge duplicate rows into the (line-ordered) errors.
  std::vector<RowError> merged;
  merged.reserve(std::min(options.max_errors, report.errors.size() + dups.size()));
  size_t i = 0, j = 0;
  while (merged.size() < options.max_errors && (i < report.errors.size() || j < dups.size())) {
    if (j >= dups.size() || (i < report.errors.size() && report.errors[i].line < dups[j].line)) {
      merged.push_back(report.errors[i++]);
    } else {
      merged.push_back({dups[j++].line, IdProblem::kDuplicate});
    }
  }
  report.errors = std::move(merged);
  if (out != nullptr) *out = std::move(report);
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

Result<ScanReport> MatchSource(const RegistryIndex& index, const Source& src,
                               const CsvLayout& layout, const ScanOptions& options,
                               const MatchCallback& on_matches) {
  ScanReport report;
  report.bytes = src.size();
  uint64_t data_begin;
  RowRules rules;
  DOUDI_RETURN_IF_ERROR(ResolveLayout(src, layout, options, &data_begin, &rules));
  const BlockPlan plan(data_begin, src.size(), options.block_bytes);
  const int threads = ThreadCount(options.threads);
  if (RegistryIndexBuilder::TableOf(index) == nullptr)
    return Status::FailedPrecondition("registry index was moved from");
  const RegistryIndex::Table& table = *RegistryIndexBuilder::TableOf(index);
  const bool with_fields = options.with_fields && static_cast<bool>(on_matches);

  std::vector<std::unique_ptr<FeedBlock>> results(plan.count);
  uint64_t line_base = 0;
  std::vector<FeedMatch> batch;
  std::vector<std::string_view> views;

  auto work = [&](int, size_t k, const char* begin, const char* end, uint64_t begin_offset) {
    auto block = std::make_unique<FeedBlock>();
    const uint64_t* keys = table.keys;
    const int shift = table.shift;
    FeedBlock* fb = block.get();

    // Valid rows wait in a small batch whose table slots are prefetched, so that the cache
    // misses of up to kBatch probes overlap instead of following one another.
    constexpr int kBatch = 16;
    struct Pending {
      uint64_t key;
      uint64_t slot;
      uint64_t line;
      const char* row;
      const char* row_end;
    } pending[kBatch];
    int np = 0;
    auto flush = [&] {
      for (int j = 0; j < np; ++j) {
        const Pending& q = pending[j];
        const int64_t row = table.Probe(q.key, q.slot);
        if (row < 0) continue;
        LocalMatch m{q.line, begin_offset + static_cast<uint64_t>(q.row - begin),
                     static_cast<uint32_t>(row), 0, 0};
        if (with_fields) {
          m.field_begin = static_cast<uint32_t>(fb->fields.size());
          SplitInto(q.row, q.row_end, rules.delim, &fb->arena, &fb->fields);
          m.field_count = static_cast<uint32_t>(fb->fields.size() - m.field_begin);
        }
        fb->matches.push_back(m);
      }
      np = 0;
    };
    ScanRows(begin, end, k == 0 && rules.skip_header, rules, options.max_errors, &fb->counts,
             [&](uint64_t key, uint64_t line, uint64_t, const char* p, const char* e) {
               const uint64_t slot = Mix(key) >> shift;
               __builtin_prefetch(&keys[slot]);
               pending[np++] = {key, slot, line, p, e};
               if (np == kBatch) flush();
             });
    flush();
    results[k] = std::move(block);
  };

  auto done = [&](size_t k, uint64_t bytes_done) {
    std::unique_ptr<FeedBlock> block = std::move(results[k]);
    if (block != nullptr) {
      const BlockCounts& c = block->counts;
      TakeErrors(c.errors, line_base, options.max_errors, &report.errors);
      report.lines += c.lines;
      report.rows += c.rows;
      report.blank_lines += c.blank;
      report.invalid += c.invalid;
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
      line_base += c.lines;
    }
    if (options.on_progress) options.on_progress(bytes_done, src.size());
  };
  DOUDI_RETURN_IF_ERROR(RunBlocks(src, plan, threads, options, work, done));
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

std::vector<std::string> SplitCsvRow(std::string_view row, char delimiter) {
  std::string arena;
  std::vector<FieldRef> refs;
  SplitInto(row.data(), row.data() + row.size(), delimiter, &arena, &refs);
  std::vector<std::string> out;
  out.reserve(refs.size());
  for (const FieldRef& f : refs) out.emplace_back(arena, f.offset, f.size);
  return out;
}

}  // namespace doudi::monitoring

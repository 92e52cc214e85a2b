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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
[[gnu::always_inline]] inline bool RealBirthDate(uint32_t ymd) {
  static constexpr uint8_t kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const uint32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  uint32_t max = kDays[m];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return d <= max;
}

// Validates the 18 bytes at `s` (the caller checked the length) and packs them.
[[gnu::always_inline]] inline IdProblem ValidatePack18(const char* s, uint32_t today, uint64_t* packed) {
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

// The first "\n" in [p, end), or null. Rows are short (about 40 bytes), so an inline 16-byte
// compare beats a call to memchr.
inline const char* FindNewline(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), nl)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  return static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
}

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
    const char* nl = FindNewline(p, end);
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

// Bytes of the input made addressable: a pointer into memory, a mapping of part of a file,
// or a copy. Reset or destruction unmaps.
class View {
 public:
  View() = default;
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  ~View() { Reset(); }
  void Reset() {
    if (map_ != nullptr) ::munmap(map_, map_len_);
    map_ = nullptr;
    data_ = nullptr;
  }
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
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path) {
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
  ~FileSource() override { ::close(fd_); }

  Status Get(uint64_t lo, uint64_t hi, View* view) const override {
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
                 const BlockWork& work, const BlockDone& done) {
  if (plan.count == 0) return Status::Ok();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::min<size_t>(plan.count, 256))));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status error;                                   // guarded by mu
  std::vector<uint8_t> finished(plan.count);     // guarded by mu
  std::vector<size_t> next_done(lanes, 0);        // guarded by mu
  std::vector<uint8_t> delivering(lanes, 0);      // guarded by mu

  auto fail = [&](Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(st);
    failed = true;
  };
  // Delivers ready blocks on any free lane until none is left.
  auto deliver = [&] {
    int lane = -1;
    size_t d = 0;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (lane >= 0) delivering[lane] = 0;
        lane = -1;
        for (int l = 0; l < lanes && !failed; ++l) {
          if (!delivering[l] && next_done[l] < plan.count && finished[next_done[l]]) {
            lane = l;
            delivering[l] = 1;
            d = next_done[l]++;
            break;
          }
        }
        if (lane < 0) return;
      }
      done(lane, d, std::min(plan.data_begin + (d + 1) * plan.block_bytes, plan.size));
    }
  };

  auto worker = [&] {
    View view;
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const size_t k = next.fetch_add(1);
      if (k >= plan.count) return;
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) return fail(Cancelled());
      const uint64_t lo = plan.data_begin + k * plan.block_bytes;
      const uint64_t hi = std::min(lo + plan.block_bytes, plan.size);
      const uint64_t read_lo = k == 0 ? lo : lo - 1;
      uint64_t tail = 4096;
      const char* begin = nullptr;
      const char* end = nullptr;
      for (;;) {
        const uint64_t read_hi = std::min(hi + tail, plan.size);
        Status st = src.Get(read_lo, read_hi, &view);
        if (!st.ok()) return fail(std::move(st));
        const char* base = view.data();
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
      if (begin != nullptr) work(k, begin, end, read_lo + static_cast<uint64_t>(begin - view.data()));
      view.Reset();
      {
        std::lock_guard<std::mutex> lock(mu);
        finished[k] = 1;
      }
      deliver();
    }
  };

  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error.ok()) deliver();  // nothing is left; kept for safety
  return error;
}

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

inline uint64_t Mix(uint64_t x) {  // MurmurHash3's fmix64: a bijection with full avalanche
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Four bits of one 64-bit filter word, from the low 24 bits of the hash.
inline uint64_t FilterBits(uint64_t h) {
  return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)) | (uint64_t{1} << ((h >> 12) & 63)) |
         (uint64_t{1} << ((h >> 18) & 63));
}

// Anonymous memory, zero-filled, 2 MiB-aligned and marked for transparent huge pages.
class PageMemory {
 public:
  PageMemory() = default;
  explicit PageMemory(size_t bytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t map_bytes = bytes + kHuge;
    void* p = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    map_ = static_cast<char*>(p);
    map_bytes_ = map_bytes;
    data_ = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(map_) + kHuge - 1) & ~(kHuge - 1));
    bytes_ = bytes;
#ifdef MADV_HUGEPAGE
    if (bytes >= kHuge) ::madvise(data_, bytes_, MADV_HUGEPAGE);
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

struct Entry {
  uint64_t key;
  uint32_t row;   // local to its block
  uint32_t line;  // local to its block
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The table: 2^pbits independent parts, chosen by the top pbits of Mix(key). Each part is an
// array of 64-byte buckets (one cache line), each holding 5 packed keys and their 5 registry
// rows, filled in order (0 = empty; no valid id packs to 0); a key's bucket comes from the
// remaining hash bits (multiply-shift, so the bucket count need not be a power of two), and a
// full bucket overflows into the next one (linear probing over buckets). So an insert or a hit
// touches one cache line. In front of each part, a blocked Bloom filter: one 64-bit word per key
// (chosen by the same bits) with four bits set (from the hash's low 24 bits), 12.8-25.6 bits per
// person. For 5 million persons the filters take 8 MiB and the buckets 85 MiB: most feed rows
// are not in the registry, and the filter turns away more than 99% of them without touching
// the buckets. Parts exist so that the registry can be inserted in file order on several cores
// at once: each part is filled by its own lane (see RunBlocks).
// ---------------------------------------------------------------------------------------------
struct RegistryIndex::Table {
  struct alignas(64) Bucket {
    static constexpr int kSlots = 5;
    uint64_t keys[kSlots];
    uint32_t rows[kSlots];
    uint32_t unused;
  };
  static_assert(sizeof(Bucket) == 64);

  struct Part {
    PageMemory bucket_mem, filter_mem;
    Bucket* buckets = nullptr;
    uint64_t* filter = nullptr;
    uint64_t nbuckets = 0;
    int filter_shift = 64;  // 64 - filter bits
    size_t count = 0;

    bool Allocate(uint64_t n) {
      nbuckets = n;
      bucket_mem = PageMemory(n * sizeof(Bucket));
      buckets = reinterpret_cast<Bucket*>(bucket_mem.data());
      count = 0;
      return buckets != nullptr;
    }
    uint64_t capacity() const { return nbuckets * Bucket::kSlots; }
    // `g` is the hash without its partition bits (h << pbits).
    uint64_t BucketOf(uint64_t g) const {
      return static_cast<uint64_t>((static_cast<unsigned __int128>(g) * nbuckets) >> 64);
    }
    const uint64_t* FilterWord(uint64_t g) const { return &filter[g >> filter_shift]; }
    bool MayContain(uint64_t g, uint64_t h) const {
      const uint64_t m = FilterBits(h);
      return (*FilterWord(g) & m) == m;
    }
    // The row of `key` looking from bucket `b`, or -1.
    int64_t Probe(uint64_t key, uint64_t b) const {
      for (;;) {
        const Bucket& bk = buckets[b];
        for (int j = 0; j < Bucket::kSlots; ++j) {
          if (bk.keys[j] == key) return bk.rows[j];
          if (bk.keys[j] == 0) return -1;
        }
        b = b + 1 == nbuckets ? 0 : b + 1;
      }
    }
    // Inserts unless present; returns the row already there, or -1.
    int64_t Insert(uint64_t key, uint32_t row, uint64_t b) {
      for (;;) {
        Bucket& bk = buckets[b];
        for (int j = 0; j < Bucket::kSlots; ++j) {
          if (bk.keys[j] == 0) {
            bk.keys[j] = key;
            bk.rows[j] = row;
            ++count;
            return -1;
          }
          if (bk.keys[j] == key) return bk.rows[j];
        }
        b = b + 1 == nbuckets ? 0 : b + 1;
      }
    }
    template <class F>
    void ForEach(F&& f) const {
      for (uint64_t b = 0; b < nbuckets; ++b)
        for (int j = 0; j < Bucket::kSlots && buckets[b].keys[j] != 0; ++j) f(buckets[b].keys[j], buckets[b].rows[j]);
    }
    // Sizes and fills the filter from the keys; call once after the last insert.
    bool BuildFilter(int pbits) {
      int fbits = 3;
      while ((uint64_t{1} << fbits) < count / 5) ++fbits;
      filter_mem = PageMemory((uint64_t{1} << fbits) * sizeof(uint64_t));
      filter = reinterpret_cast<uint64_t*>(filter_mem.data());
      if (filter == nullptr) return false;
      filter_shift = 64 - fbits;
      ForEach([&](uint64_t key, uint32_t) {
        const uint64_t h = Mix(key);
        filter[(h << pbits) >> filter_shift] |= FilterBits(h);
      });
      return true;
    }
    size_t bytes() const { return bucket_mem.bytes() + filter_mem.bytes(); }
  };

  int pbits = 0;
  std::vector<Part> parts;

  const Part& PartOf(uint64_t h) const { return parts[pbits == 0 ? 0 : h >> (64 - pbits)]; }
  size_t count() const {
    size_t n = 0;
    for (const Part& p : parts) n += p.count;
    return n;
  }
};

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

struct RegistryIndexBuilder {
  static RegistryIndex Make(std::unique_ptr<RegistryIndex::Table> t) { return RegistryIndex(std::move(t)); }
  static const RegistryIndex::Table* TableOf(const RegistryIndex& index) { return index.table_.get(); }
};

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
  uint64_t data_begin;
  RowRules rules;
  DOUDI_RETURN_IF_ERROR(ResolveLayout(src, layout, options, &data_begin, &rules));
  const BlockPlan plan(data_begin, src.size(), options.block_bytes);
  const int threads = ThreadCount(options.threads);
  int pbits = 0;
  while ((1 << pbits) < threads && pbits < 6) ++pbits;
  TableBuilder builder;
  DOUDI_RETURN_IF_ERROR(builder.Start(pbits, EstimateRows(src, data_begin) * 21 / 20));
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
    TakeErrors(c.errors, report.lines, options.max_errors, &report.errors);
    report.lines += c.lines;
    report.rows += c.rows;
    report.blank_lines += c.blank;
    report.invalid += c.invalid;
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
  uint64_t data_begin;
  RowRules rules;
  DOUDI_RETURN_IF_ERROR(ResolveLayout(src, layout, options, &data_begin, &rules));
  const BlockPlan plan(data_begin, src.size(), options.block_bytes);
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

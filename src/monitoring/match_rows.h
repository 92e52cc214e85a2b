// The match engine's hot path (internal to match_*.cc; see match_engine.h): citizen ids
// validated and packed without allocation, and the rows of a block of CSV walked and split.
// Everything here is inline so that the per-row loop compiles into each of its two callers
// (the registry's build and the feed's match) as it did when the engine was one file.
// Thread-safe: pure functions.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "monitoring/match_engine.h"

namespace doudi::monitoring::engine {

// ---------------------------------------------------------------------------------------------
// Citizen ids: validation and packing without allocation.
// ---------------------------------------------------------------------------------------------

// The largest value PackCitizenId produces: 17 nines and check value 10.
inline constexpr uint64_t kMaxPacked = 99999999999999999ULL * 11 + 10;
inline constexpr unsigned kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

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

inline bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// ---------------------------------------------------------------------------------------------
// CSV rows.
// ---------------------------------------------------------------------------------------------

struct FieldRef {
  uint32_t offset;
  uint32_t size;
};

// Splits [p, e) into unquoted fields appended to *arena, their places to *out.
inline void SplitInto(const char* p, const char* e, char delim, std::string* arena,
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
inline RowKind GenericId(const char* p, const char* e, const RowRules& rules, uint64_t* key,
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

}  // namespace doudi::monitoring::engine

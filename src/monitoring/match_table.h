// The match engine's hash table (internal to match_*.cc; see match_engine.h): the memory it
// lives in, its hash, and RegistryIndex::Table with the probes the feed's match runs per row
// (inline, so that they compile into the match's loop).
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "monitoring/match_engine.h"

namespace doudi::monitoring {
namespace engine {

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

}  // namespace engine

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
    engine::PageMemory bucket_mem, filter_mem;
    Bucket* buckets = nullptr;
    uint64_t* filter = nullptr;
    uint64_t nbuckets = 0;
    int filter_shift = 64;  // 64 - filter bits
    size_t count = 0;

    bool Allocate(uint64_t n) {
      nbuckets = n;
      bucket_mem = engine::PageMemory(n * sizeof(Bucket));
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
      const uint64_t m = engine::FilterBits(h);
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
      filter_mem = engine::PageMemory((uint64_t{1} << fbits) * sizeof(uint64_t));
      filter = reinterpret_cast<uint64_t*>(filter_mem.data());
      if (filter == nullptr) return false;
      filter_shift = 64 - fbits;
      ForEach([&](uint64_t key, uint32_t) {
        const uint64_t h = engine::Mix(key);
        filter[(h << pbits) >> filter_shift] |= engine::FilterBits(h);
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

// Reaches RegistryIndex's private parts for the engine's files.
struct RegistryIndexBuilder {
  static RegistryIndex Make(std::unique_ptr<RegistryIndex::Table> t) { return RegistryIndex(std::move(t)); }
  static const RegistryIndex::Table* TableOf(const RegistryIndex& index) { return index.table_.get(); }
};

}  // namespace doudi::monitoring

// bench_monitoring_gen DIR [persons] [feed_rows] [seed]
//
// Writes DIR/registry.csv (citizen_id,name,household_id), DIR/feed.csv
// (citizen_id,event_date,amount,source: a month of medical-insurance bills) and
// DIR/expected.txt (the number of feed rows whose person is in the registry). Deterministic
// for a seed. All citizen ids are valid GB 11643 ids with upper-case X.
//
// Ids come from one bijection: person number x in [0, M) maps to (county, birth date,
// sequence), M = counties × days × 1000, scrambled by x → (x·A + B) mod M. Registry persons are
// numbers [0, persons); a feed row names a registry person with probability 2%, else a number
// from [persons, M), who is by construction not in the registry. So the expected match count
// is known exactly without a join.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "common/citizen_id.h"

namespace {

constexpr const char* kCounties[] = {
    "370725", "371522", "520524", "340321", "370321", "370102", "370211", "370303",
    "370481", "370522", "370612", "370724", "370781", "370826", "370923", "371002",
    "371122", "371324", "371428", "371502", "371623", "371726", "520102", "520221",
    "520325", "520402", "520523", "520526", "340122", "340221", "340322", "340406"};
constexpr uint64_t kCountyCount = sizeof kCounties / sizeof kCounties[0];
constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                     "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
constexpr const char* kGiven[] = {"伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊",
                                  "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "兰",
                                  "霞", "平", "刚", "桂", "华", "玉", "建", "国", "春", "梅"};
constexpr const char* kSources[] = {"yb", "yb", "yb", "ylbx", "rs"};

struct Rng {  // splitmix64
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

bool Leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Birth dates 1930-01-01 .. 2025-12-31 as "YYYYMMDD".
std::vector<std::string> BirthDates() {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::vector<std::string> out;
  char buf[16];
  for (int y = 1930; y <= 2025; ++y)
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= kDays[m - 1] + (m == 2 && Leap(y)); ++d) {
        std::snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
        out.emplace_back(buf);
      }
  return out;
}

class Ids {
 public:
  Ids() : dates_(BirthDates()) {
    space_ = kCountyCount * dates_.size() * 1000;
    mul_ = 2654435761ULL % space_;
    while (std::gcd(mul_, space_) != 1) ++mul_;
  }
  uint64_t space() const { return space_; }
  // Writes the 18-character id of person x to out.
  void Write(uint64_t x, char* out) const {
    const uint64_t v = static_cast<uint64_t>((static_cast<unsigned __int128>(x) * mul_ + 12345) % space_);
    const uint64_t county = v % kCountyCount, day = (v / kCountyCount) % dates_.size();
    const uint64_t seq = v / (kCountyCount * dates_.size());
    std::memcpy(out, kCounties[county], 6);
    std::memcpy(out + 6, dates_[day].data(), 8);
    out[14] = static_cast<char>('0' + seq / 100);
    out[15] = static_cast<char>('0' + seq / 10 % 10);
    out[16] = static_cast<char>('0' + seq % 10);
    out[17] = doudi::CitizenIdCheckChar(std::string_view(out, 17));
  }

 private:
  std::vector<std::string> dates_;
  uint64_t space_ = 0;
  uint64_t mul_ = 0;
};

class Writer {
 public:
  explicit Writer(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) {
      std::perror(path.c_str());
      std::exit(1);
    }
    buf_.reserve(kFlush + 4096);
  }
  ~Writer() {
    Flush();
    std::fclose(f_);
  }
  void Put(const char* s, size_t n) {
    buf_.append(s, n);
    if (buf_.size() >= kFlush) Flush();
  }
  void Put(const char* s) { Put(s, std::strlen(s)); }
  void PutUint(uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) buf_.push_back(tmp[--n]);
  }
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      std::perror("write");
      std::exit(1);
    }
    bytes_ += buf_.size();
    buf_.clear();
  }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  static constexpr size_t kFlush = size_t{4} << 20;
  std::FILE* f_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [persons=5000000] [feed_rows=20000000] [seed=20260315]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t persons = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000000;
  const uint64_t feed_rows = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20000000;
  Rng rng{argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 20260315};
  const Ids ids;
  if (persons == 0 || persons >= ids.space() / 2) {
    std::fprintf(stderr, "persons must be in [1, %llu)\n", static_cast<unsigned long long>(ids.space() / 2));
    return 2;
  }
  char id[18];
  uint64_t registry_bytes, feed_bytes, expected = 0;
  {
    Writer w(dir + "/registry.csv");
    w.Put("citizen_id,name,household_id\n");
    uint64_t household = 1;
    for (uint64_t i = 0; i < persons; ++i) {
      ids.Write(i, id);
      w.Put(id, 18);
      w.Put(",");
      w.Put(kSurnames[rng.Below(20)]);
      w.Put(kGiven[rng.Below(30)]);
      if (rng.Below(3) != 0) w.Put(kGiven[rng.Below(30)]);
      w.Put(",");
      w.PutUint(household);
      w.Put("\n");
      if (rng.Below(5) < 2) ++household;  // 2.5 persons per household on average
    }
    w.Flush();
    registry_bytes = w.bytes();
  }
  {
    Writer w(dir + "/feed.csv");
    w.Put("citizen_id,event_date,amount,source\n");
    char date[16];
    for (uint64_t i = 0; i < feed_rows; ++i) {
      uint64_t x;
      if (rng.Below(50) == 0) {  // 2%: a registry person
        x = rng.Below(persons);
        ++expected;
      } else {
        x = persons + rng.Below(ids.space() - persons);
      }
      ids.Write(x, id);
      w.Put(id, 18);
      std::snprintf(date, sizeof date, ",2026-02-%02d,", static_cast<int>(1 + rng.Below(28)));
      w.Put(date, 12);
      // Bills: mostly small, a few large (fen, printed as yuan with two decimals).
      const uint64_t fen = rng.Below(8) == 0 ? rng.Below(5000000) : rng.Below(50000);
      w.PutUint(fen / 100);
      const char cents[4] = {'.', static_cast<char>('0' + fen / 10 % 10), static_cast<char>('0' + fen % 10), ','};
      w.Put(cents, 4);
      w.Put(kSources[rng.Below(5)]);
      w.Put("\n");
    }
    w.Flush();
    feed_bytes = w.bytes();
  }
  std::FILE* f = std::fopen((dir + "/expected.txt").c_str(), "w");
  std::fprintf(f, "%llu\n", static_cast<unsigned long long>(expected));
  std::fclose(f);
  std::printf("registry.csv: %llu persons, %.1f MB\nfeed.csv: %llu rows, %.1f MB, %llu in the registry\n",
              static_cast<unsigned long long>(persons), registry_bytes / 1e6,
              static_cast<unsigned long long>(feed_rows), feed_bytes / 1e6,
              static_cast<unsigned long long>(expected));
  return 0;
}

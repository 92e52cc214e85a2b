// bench_monitoring_engine DIR [--threads N] [--block BYTES] [--counts-only]
//
// Runs the match engine on DIR/registry.csv and DIR/feed.csv as a monitoring run would:
// build the registry index from the CSV, stream the feed, and keep every match in memory
// (registry row, feed line and the feed row's other fields). Prints the phases' wall times,
// the peak RSS (getrusage ru_maxrss) and the counts; the last line is machine-readable:
//   RESULT engine wall_s=... matched=... peak_rss_mb=...
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "monitoring/match_engine.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// User + system CPU seconds of the process so far (all threads).
double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double PeakRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // kilobytes on Linux
}

// The matches as a monitoring run keeps them until it writes its warnings.
struct Matches {
  struct Row {
    uint32_t registry_row;
    uint64_t line;
    uint32_t fields_at;  // into text: the feed fields after the id, each ended by '\0'
  };
  std::vector<Row> rows;
  std::string text;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [--threads N] [--block BYTES] [--counts-only]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  doudi::monitoring::ScanOptions options;
  bool counts_only = false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      options.threads = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--block") == 0 && i + 1 < argc) {
      options.block_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--counts-only") == 0) {
      counts_only = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  const doudi::monitoring::CsvLayout layout;  // citizen_id first, header, comma

  const auto t0 = Clock::now();
  const double c0 = CpuSeconds();
  doudi::monitoring::ScanReport reg_report;
  auto index = doudi::monitoring::RegistryIndex::FromCsvFile(dir + "/registry.csv", layout, options, &reg_report);
  if (!index.ok()) {
    std::fprintf(stderr, "registry: %s\n", index.status().detail().c_str());
    return 1;
  }
  const auto t1 = Clock::now();
  const double c1 = CpuSeconds();

  Matches matches;
  matches.rows.reserve(1 << 16);
  options.with_fields = !counts_only;
  doudi::monitoring::MatchCallback keep;
  if (!counts_only) {
    keep = [&](std::span<const doudi::monitoring::FeedMatch> batch) {
      for (const auto& m : batch) {
        matches.rows.push_back({m.registry_row, m.line, static_cast<uint32_t>(matches.text.size())});
        for (size_t f = 1; f < m.fields.size(); ++f) {
          matches.text.append(m.fields[f]);
          matches.text.push_back('\0');
        }
      }
    };
  }
  auto feed = doudi::monitoring::MatchFeedFile(*index, dir + "/feed.csv", layout, options, keep);
  if (!feed.ok()) {
    std::fprintf(stderr, "feed: %s\n", feed.status().detail().c_str());
    return 1;
  }
  const auto t2 = Clock::now();
  const double c2 = CpuSeconds();
  const uint64_t matched = counts_only ? feed->matched : matches.rows.size();

  std::printf("registry: %llu rows, %zu indexed, %llu invalid, %llu duplicates, %.1f MB CSV in %.3f s (cpu %.3f s); index %.1f MB\n",
              static_cast<unsigned long long>(reg_report.rows), index->size(),
              static_cast<unsigned long long>(reg_report.invalid),
              static_cast<unsigned long long>(reg_report.duplicates), reg_report.bytes / 1e6,
              Seconds(t0, t1), c1 - c0, index->memory_bytes() / 1e6);
  std::printf("feed:     %llu rows, %llu matched, %llu invalid, %.1f MB CSV in %.3f s (cpu %.3f s, %.0f MB/s)\n",
              static_cast<unsigned long long>(feed->rows), static_cast<unsigned long long>(matched),
              static_cast<unsigned long long>(feed->invalid), feed->bytes / 1e6, Seconds(t1, t2),
              c2 - c1, feed->bytes / 1e6 / Seconds(t1, t2));
  for (const auto& e : feed->errors)
    std::printf("  line %llu: %s\n", static_cast<unsigned long long>(e.line),
                doudi::monitoring::IdProblemMessage(e.problem));
  std::printf("total:    %.3f s (cpu %.3f s), peak RSS %.0f MB\n", Seconds(t0, t2), c2 - c0, PeakRssMb());
  std::printf("RESULT engine wall_s=%.3f matched=%llu peak_rss_mb=%.0f\n", Seconds(t0, t2),
              static_cast<unsigned long long>(matched), PeakRssMb());
  return 0;
}

// The server's cache of household documents (the household read and the list-page summary,
// as JSON), kept exact by the registry change feed (migration 9).
//
// Before a request answers from the cache it calls Sync(): that returns once a poll of the
// feed that started after the call has been applied, so every change committed before the
// request arrived — by this server, another one, or the CLI — has evicted its household.
// Concurrent requests share one poll (the first becomes the leader and runs it on the
// cache's own connection; the others wait for it), so under load a poll costs each request
// a fraction of one statement. Fill() after loading from the database refuses a document
// that a change applied since the load's Sync() may have made stale.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/database.h"

namespace doudi::registry {

class HouseholdCache {
 public:
  struct SyncPoint {
    int64_t rev = 0;             // the last change applied
    std::optional<int64_t> gen;  // the registry generation (migration 8) at that poll
    std::string day;             // the Shanghai date the documents are valid for
  };
  enum class Kind { kDetail, kSummary };
  struct Doc {
    std::string village_code;
    std::shared_ptr<const std::string> json;
  };
  struct Stats {
    int64_t polls = 0, hits = 0, misses = 0, refused_fills = 0, flushes = 0;
  };

  // Bounds: documents held (bytes), and invalidations remembered for refusing stale fills.
  explicit HouseholdCache(storage::Database& db, size_t max_bytes = 64u << 20, size_t remembered = 100'000);
  ~HouseholdCache();

  // On SQLite pass the request's connection: each request polls on its own (cheaper than
  // waiting); on PostgreSQL requests share the cache's connection and one poll at a time.
  Result<SyncPoint> Sync(storage::Connection* conn = nullptr);
  std::optional<Doc> Get(Kind kind, int64_t id);
  // Stores a document loaded after `since` was returned by Sync(); refused (false) when a
  // change to the household applied since then, or the day changed (ages are in the detail).
  bool Fill(Kind kind, int64_t id, const SyncPoint& since, std::string village_code, std::string json);
  Stats stats();

  // The feed keeps the last kKeepChanges rows: once kPruneEvery more have arrived, a poll
  // deletes the oldest (at most 5,000, at most once a second).
  static constexpr int64_t kKeepChanges = 50'000;
  static constexpr int64_t kPruneEvery = 10'000;

 private:
  struct Entry {
    std::string village_code;
    std::shared_ptr<const std::string> detail, summary;
  };
  struct Poll;
  Result<Poll> RunPoll(storage::Connection& conn, bool first, int64_t after);
  void Apply(const Poll& p);
  void AfterPoll(std::unique_lock<std::mutex>& lock, const std::string& today);  // prune, new day
  void FlushLocked(int64_t horizon);
  bool Prune(int64_t upto);
  size_t Bytes(const Entry& e) const;

  storage::Database& db_;
  const size_t max_bytes_, remembered_;
  std::unique_ptr<storage::Connection> poll_conn_;  // used by the leader only (PostgreSQL)
  std::mutex mu_;
  std::condition_variable polled_;
  uint64_t arrivals_ = 0, completed_ = 0;
  bool polling_ = false, started_ = false;
  SyncPoint at_;
  int64_t horizon_ = 0;  // fills from before this rev are refused (invalidations forgotten)
  int64_t pruned_ = 0;   // feed rows up to here are (being) deleted
  std::chrono::steady_clock::time_point last_prune_{};
  std::unordered_map<int64_t, Entry> entries_;
  size_t bytes_ = 0;
  std::unordered_map<int64_t, int64_t> invalidated_;     // household → rev of its last change
  std::deque<std::pair<int64_t, int64_t>> invalidation_order_;  // (rev, household)
  Stats stats_;
};

}  // namespace doudi::registry

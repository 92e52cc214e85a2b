// The server's cache of household documents (the household read and the list-page summary,
// as JSON), kept exact by the registry change feed (migration 9).
//
// Before a request answers from the cache it syncs: it waits until a poll of the feed that
// started after it arrived has been applied, so every change committed before the request
// arrived — by this server, another one, or the CLI — has evicted its household. On SQLite a
// request polls on its own connection (in-process, cheaper than waiting). Otherwise requests
// share the polls of the cache's poller thread, which runs on its own connection, one poll
// at a time and at most one per poll interval: every request that arrived before a poll
// started is served by it, so under load a poll costs each request a small fraction of one
// statement. The server waits for it without holding a thread (AwaitSync), then answers
// inside a Presynced scope. Fill() after loading from the database refuses a document that a
// change applied since the load's sync may have made stale. After a write, FillAfterWrite()
// stores the written household's document as of the write's change: it is served only once
// the polls have shown that change to be the first one to the household since the state the
// writer started from (so the household's next read needs no load).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/database.h"

namespace doudi::registry {

struct Household;  // registry.h

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
    int64_t write_fills = 0, confirmed_write_fills = 0, dropped_write_fills = 0;
  };

  // Bounds: documents held (bytes), and invalidations remembered for refusing stale fills.
  // Shared polls start at most once per poll_interval.
  explicit HouseholdCache(storage::Database& db, size_t max_bytes = 64u << 20, size_t remembered = 100'000,
                          std::chrono::microseconds poll_interval = kPollInterval);
  ~HouseholdCache();

  // Returns once a poll that started after the call has been applied. With a SQLite
  // connection the poll runs on it; otherwise it is a shared poll (AwaitSync). Inside a
  // Presynced scope of this cache it returns the scope's point at once.
  Result<SyncPoint> Sync(storage::Connection* conn = nullptr);
  // Calls `ready` on the poller thread once a shared poll that started after the call has
  // been applied, with its sync point or the poll's error. `ready` must not block.
  void AwaitSync(std::function<void(Result<SyncPoint>)> ready);
  // While alive, Sync() of this cache on this thread returns `at` without polling.
  class Presynced {
   public:
    Presynced(const HouseholdCache& cache, SyncPoint at);
    ~Presynced();
    Presynced(const Presynced&) = delete;
    Presynced& operator=(const Presynced&) = delete;

   private:
    const HouseholdCache* previous_cache_;
    SyncPoint previous_at_;
  };
  std::optional<Doc> Get(Kind kind, int64_t id);
  // The summary documents of n households (a list page) under one lock: (*out)[i] is ids[i]'s,
  // or null when not cached.
  void GetSummaries(const int64_t* ids, size_t n, std::vector<std::shared_ptr<const std::string>>* out);
  // The household behind the cached detail document (when it was filled with one), for a
  // writer that needs the household as of its sync.
  std::shared_ptr<const Household> GetHousehold(int64_t id);
  // Stores a document loaded after `since` was returned by Sync(); refused (false) when a
  // change to the household applied since then, or the day changed (ages are in the detail).
  // A detail document may come with the household it was written from (GetHousehold).
  bool Fill(Kind kind, int64_t id, const SyncPoint& since, std::string village_code, std::string json,
            std::shared_ptr<const Household> household = nullptr);
  // After a write committed as the feed's change `rev` (the only change its transaction made
  // to the household), stores the household's detail document as of that change, computed from
  // the household as of `since` (a sync before the write began) and the write. Served once a
  // poll shows `rev` to be the first change to the household after `since`; dropped if another
  // change comes first. Refused (false) when a change after `since` has already been applied.
  bool FillAfterWrite(int64_t id, const SyncPoint& since, int64_t rev, std::string village_code, std::string json,
                      std::shared_ptr<const Household> household);
  Stats stats();

  // The feed keeps the last kKeepChanges rows: once kPruneEvery more have arrived, a poll
  // deletes the oldest (at most 5,000, at most once a second).
  static constexpr int64_t kKeepChanges = 50'000;
  static constexpr int64_t kPruneEvery = 10'000;
  // Requests wait half of it on average; each poll costs the database a statement.
  static constexpr std::chrono::microseconds kPollInterval{1000};

 private:
  struct Entry {
    std::string village_code;
    std::shared_ptr<const std::string> detail, summary;
    std::shared_ptr<const Household> household;  // the detail's, when known
    int64_t confirm_at = 0;  // FillAfterWrite's change, until a poll confirms it (not served meanwhile)
  };
  struct Poll;
  Result<Poll> RunPoll(storage::Connection& conn, bool first, int64_t after);
  void Apply(const Poll& p);
  void AfterPoll(std::unique_lock<std::mutex>& lock, const std::string& today);  // prune, new day
  void FlushLocked(int64_t horizon);
  bool Prune(int64_t from, int64_t upto);  // deletes the feed's rows in (from, upto]
  size_t Bytes(const Entry& e) const;

  void PollerLoop();

  storage::Database& db_;
  const size_t max_bytes_, remembered_;
  const std::chrono::microseconds poll_interval_;
  std::unique_ptr<storage::Connection> poll_conn_;  // the poller thread's
  std::mutex mu_;
  std::condition_variable wake_poller_;
  std::vector<std::function<void(Result<SyncPoint>)>> waiting_;  // for the next shared poll
  bool stopping_ = false, started_ = false;
  std::chrono::steady_clock::time_point last_poll_{};
  std::thread poller_;  // started by the first AwaitSync
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

#include "registry/household_cache.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/date.h"

namespace doudi::registry {

namespace {
constexpr int64_t kMaxChangesPerPoll = 10'000;  // more at once: forget everything instead
// Pruning holds SQLite's write lock: small chunks, at most one a second (a bulk load's rows
// are pruned over the following minutes instead of in one long delete).
constexpr int64_t kPruneChunk = 5'000;
constexpr auto kPruneInterval = std::chrono::seconds(1);

// One statement, one snapshot: the registry generation and the feed's last number (kind 0),
// then the changes after the last one applied, in order (kind 1). The feed's numbers have no
// gaps (each is the last one plus one, taken under a lock or by SQLite's single writer, and
// a rolled-back number is taken again), so a listed change that is not the next number means
// the rows between were pruned. The feed's first number is read only by a server's first
// poll (where to start pruning): after a prune, MIN(rev) walks the index entries of the
// deleted rows until PostgreSQL vacuums the table (thousands of pages per poll).
// The changes are asked for as a range of at most 10,001 numbers (the same rows as the
// LIMIT, numbers having no gaps): PostgreSQL's generic plan (the poll's connection uses one)
// then estimates a few rows and scans the index; with only `rev > ?` it estimated a third of
// the table and scanned all of it.
// MIN and MAX in separate subqueries: SQLite answers a lone MIN or MAX from the index.
constexpr const char* kPollSql =
    "SELECT 0, (SELECT registry_gen FROM audit_head WHERE id = 1), 0, "
    "COALESCE((SELECT MAX(rev) FROM registry_changes), 0) "
    "UNION ALL SELECT 1, rev, household_id, 0 FROM "
    "(SELECT rev, household_id FROM registry_changes WHERE rev > ? AND rev <= ? ORDER BY rev LIMIT 10001) c";
constexpr const char* kFirstPollSql =
    "SELECT 0, (SELECT registry_gen FROM audit_head WHERE id = 1), "
    "COALESCE((SELECT MIN(rev) FROM registry_changes), 0), COALESCE((SELECT MAX(rev) FROM registry_changes), 0)";
}  // namespace

struct HouseholdCache::Poll {
  bool first = false;  // taken before anything was applied: lists no changes
  std::optional<int64_t> gen;
  int64_t min_rev = 0;  // first polls only
  int64_t max_rev = 0;
  std::vector<std::pair<int64_t, int64_t>> changes;  // (rev, household)
};

HouseholdCache::HouseholdCache(storage::Database& db, size_t max_bytes, size_t remembered,
                               std::chrono::microseconds poll_interval)
    : db_(db), max_bytes_(max_bytes), remembered_(remembered), poll_interval_(poll_interval) {}

HouseholdCache::~HouseholdCache() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  wake_poller_.notify_one();
  if (poller_.joinable()) poller_.join();
}

namespace {
// The Presynced scope of this thread.
thread_local const HouseholdCache* presynced_cache = nullptr;
thread_local HouseholdCache::SyncPoint presynced_at;
}  // namespace

HouseholdCache::Presynced::Presynced(const HouseholdCache& cache, SyncPoint at)
    : previous_cache_(presynced_cache), previous_at_(std::move(presynced_at)) {
  presynced_cache = &cache;
  presynced_at = std::move(at);
}
HouseholdCache::Presynced::~Presynced() {
  presynced_cache = previous_cache_;
  presynced_at = std::move(previous_at_);
}

Result<HouseholdCache::Poll> HouseholdCache::RunPoll(storage::Connection& conn, bool first, int64_t after) {
  auto rs = first ? conn.Query(kFirstPollSql) : conn.Query(kPollSql, {after, after + 10'001});
  if (!rs.ok()) return rs.status();
  Poll p;
  p.first = first;
  for (const auto& r : rs->rows) {
    if (r.Int(0) == 0) {
      if (!r.IsNull(1)) p.gen = r.Int(1);
      p.min_rev = r.Int(2);
      p.max_rev = r.Int(3);
    } else {
      p.changes.emplace_back(r.Int(1), r.Int(2));
    }
  }
  // UNION ALL keeps the branches' order in practice but promises nothing: sort to be sure.
  std::sort(p.changes.begin(), p.changes.end());
  return p;
}

void HouseholdCache::FlushLocked(int64_t horizon) {
  entries_.clear();
  bytes_ = 0;
  invalidated_.clear();
  invalidation_order_.clear();
  horizon_ = std::max(horizon_, horizon);
  ++stats_.flushes;
}

// Polls may finish out of order (SQLite polls on each request's connection): a poll's
// snapshot is a prefix of the feed in commit order, so what is at or below the last applied
// number is already applied and only the rest counts.
void HouseholdCache::Apply(const Poll& p) {
  ++stats_.polls;
  const int64_t applied = at_.rev;
  if (!started_) {  // nothing cached yet: start from the feed's end
    started_ = true;
    at_.rev = p.max_rev;
    at_.gen = p.gen;
    horizon_ = p.max_rev;
    pruned_ = std::max<int64_t>(0, p.min_rev - 1);
    return;
  }
  if (p.max_rev <= applied) return;  // nothing new (an older snapshot than one applied)
  at_.gen = p.gen;
  at_.rev = p.max_rev;
  // A first poll lists no changes; rows after the last applied one were pruned (the next
  // number listed is not the next one); too many arrived at once: what they said is unknown,
  // so nothing cached can be trusted.
  auto next = std::upper_bound(p.changes.begin(), p.changes.end(), std::make_pair(applied, INT64_MAX));
  int64_t next_rev = next == p.changes.end() ? p.max_rev : next->first;
  if (p.first || next_rev > applied + 1 || static_cast<int64_t>(p.changes.size()) > kMaxChangesPerPoll) {
    FlushLocked(at_.rev);
    return;
  }
  for (const auto& [rev, id] : p.changes) {
    if (rev <= applied) continue;
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.confirm_at == rev) {
      // The write's own change, the first one since the document's starting point: from now
      // on the document is the household's current state.
      it->second.confirm_at = 0;
      ++stats_.confirmed_write_fills;
    } else if (it != entries_.end()) {
      if (it->second.confirm_at != 0) ++stats_.dropped_write_fills;  // another change came first
      bytes_ -= Bytes(it->second);
      entries_.erase(it);
    }
    invalidated_[id] = rev;
    invalidation_order_.emplace_back(rev, id);
  }
  while (invalidation_order_.size() > remembered_) {
    auto [rev, id] = invalidation_order_.front();
    invalidation_order_.pop_front();
    auto it = invalidated_.find(id);
    if (it != invalidated_.end() && it->second == rev) invalidated_.erase(it);
    horizon_ = std::max(horizon_, rev);
  }
}

void HouseholdCache::AfterPoll(std::unique_lock<std::mutex>& lock, const std::string& today) {
  auto now = std::chrono::steady_clock::now();
  if (at_.rev - pruned_ >= kKeepChanges + kPruneEvery && now - last_prune_ >= kPruneInterval) {
    last_prune_ = now;
    int64_t from = pruned_;
    int64_t upto = std::min(at_.rev - kKeepChanges, pruned_ + kPruneChunk);
    pruned_ = upto;
    lock.unlock();
    bool pruned = Prune(from, upto);
    lock.lock();
    if (!pruned && pruned_ == upto) pruned_ = from;  // a later poll tries again
  }
  // Ages in a household's document depend on the day: a new day starts an empty cache.
  if (today > at_.day) {
    if (!at_.day.empty()) FlushLocked(at_.rev);
    at_.day = today;
  }
}

Result<HouseholdCache::SyncPoint> HouseholdCache::Sync(storage::Connection* conn) {
  if (presynced_cache == this) return presynced_at;
  if (conn && conn->dialect() == storage::Dialect::kSqlite) {
    // In-process: a poll costs less than waiting for a shared one, so each request runs its
    // own on its own connection.
    std::string today = TodayShanghai();
    bool first;
    int64_t after;
    {
      std::lock_guard<std::mutex> g(mu_);
      first = !started_;
      after = at_.rev;
    }
    DOUDI_ASSIGN_OR_RETURN(Poll p, RunPoll(*conn, first, after));
    std::unique_lock<std::mutex> lock(mu_);
    Apply(p);
    AfterPoll(lock, today);
    return at_;
  }
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::optional<Result<SyncPoint>> result;
  AwaitSync([&](Result<SyncPoint> r) {
    std::lock_guard<std::mutex> g(done_mu);
    result.emplace(std::move(r));
    done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return result.has_value(); });
  return std::move(*result);
}

void HouseholdCache::AwaitSync(std::function<void(Result<SyncPoint>)> ready) {
  {
    std::lock_guard<std::mutex> g(mu_);
    waiting_.push_back(std::move(ready));
    if (!poller_.joinable()) poller_ = std::thread([this] { PollerLoop(); });
  }
  wake_poller_.notify_one();
}

// One poll at a time, at most one per interval, each for everyone who was waiting when it
// started (they all arrived before it).
void HouseholdCache::PollerLoop() {
  pthread_setname_np(pthread_self(), "doudi-poll");  // as `top -H` shows it
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_poller_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, nobody waiting
    if (!stopping_)
      wake_poller_.wait_until(lock, last_poll_ + poll_interval_, [this] { return stopping_; });
    std::vector<std::function<void(Result<SyncPoint>)>> served;
    served.swap(waiting_);
    last_poll_ = std::chrono::steady_clock::now();
    const bool first = !started_;
    const int64_t after = at_.rev;
    lock.unlock();
    std::string today = TodayShanghai();
    Result<Poll> p = Status::Internal("poll");
    if (!poll_conn_) {
      auto c = db_.OpenDedicated();
      // The poll's generic plan (index scans on registry_changes and audit_head) is right
      // for every value; planning it per execution cost PostgreSQL more than running it.
      if (c.ok() && (*c)->dialect() == storage::Dialect::kPostgres) {
        Status s = (*c)->ExecScript("SET plan_cache_mode = force_generic_plan");
        if (!s.ok()) c = s;
      }
      if (c.ok()) poll_conn_ = std::move(c).value();
      else p = c.status();
    }
    if (poll_conn_) {
      p = RunPoll(*poll_conn_, first, after);
      if (!p.ok()) poll_conn_.reset();  // reconnect next time
    }
    lock.lock();
    std::optional<Result<SyncPoint>> at;
    if (p.ok()) {
      Apply(*p);
      AfterPoll(lock, today);
      at.emplace(at_);
    } else {
      at.emplace(p.status());
    }
    lock.unlock();
    for (auto& ready : served) ready(*at);
    lock.lock();
  }
}

bool HouseholdCache::Prune(int64_t from, int64_t upto) {
  auto conn = db_.Acquire();
  if (!conn.ok()) return false;
  storage::Transaction tx(**conn, true);
  if (!tx.status().ok()) return false;
  // From the last prune's end, not the index's start (see kPollSql: the deleted rows' entries
  // stay in PostgreSQL's index until a vacuum).
  if (!(*conn)->Execute("DELETE FROM registry_changes WHERE rev > ? AND rev <= ?", {from, upto}).ok()) return false;
  return tx.Commit().ok();
}

// A household's fields and members take about as much memory as its detail document.
size_t HouseholdCache::Bytes(const Entry& e) const {
  size_t detail = e.detail ? e.detail->size() : 0;
  return 64 + e.village_code.size() + detail + (e.household ? detail : 0) + (e.summary ? e.summary->size() : 0);
}

std::optional<HouseholdCache::Doc> HouseholdCache::Get(Kind kind, int64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = entries_.find(id);
  const auto* json = it == entries_.end() || it->second.confirm_at != 0 ? nullptr
                     : kind == Kind::kDetail                            ? &it->second.detail
                                                                        : &it->second.summary;
  if (!json || !*json) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  return Doc{it->second.village_code, *json};
}

void HouseholdCache::GetSummaries(const int64_t* ids, size_t n, std::vector<std::shared_ptr<const std::string>>* out) {
  out->assign(n, nullptr);
  std::lock_guard<std::mutex> g(mu_);
  for (size_t i = 0; i < n; ++i) {
    auto it = entries_.find(ids[i]);
    if (it != entries_.end() && it->second.confirm_at == 0 && it->second.summary) (*out)[i] = it->second.summary;
  }
  int64_t found = std::count_if(out->begin(), out->end(), [](const auto& d) { return d != nullptr; });
  stats_.hits += found;
  stats_.misses += static_cast<int64_t>(n) - found;
}

std::shared_ptr<const Household> HouseholdCache::GetHousehold(int64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.confirm_at != 0) return nullptr;
  return it->second.household;
}

bool HouseholdCache::Fill(Kind kind, int64_t id, const SyncPoint& since, std::string village_code, std::string json,
                          std::shared_ptr<const Household> household) {
  std::lock_guard<std::mutex> g(mu_);
  auto inv = invalidated_.find(id);
  if (since.day != at_.day || since.rev < horizon_ || (inv != invalidated_.end() && inv->second > since.rev)) {
    ++stats_.refused_fills;
    return false;
  }
  auto doc = std::make_shared<const std::string>(std::move(json));
  if (bytes_ + 2 * doc->size() + 64 > max_bytes_) FlushLocked(0);  // full: start again
  auto [it, inserted] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (!inserted) bytes_ -= Bytes(e);
  // Moved since the other document was loaded, or a write's document not yet confirmed (this
  // one may be older than the write: the write's change will evict it).
  if (e.village_code != village_code || e.confirm_at != 0) {
    e.detail.reset();
    e.summary.reset();
    e.household.reset();
    e.confirm_at = 0;
    e.village_code = std::move(village_code);
  }
  if (kind == Kind::kDetail) {
    e.detail = std::move(doc);
    e.household = std::move(household);
  } else {
    e.summary = std::move(doc);
  }
  bytes_ += Bytes(e);
  return true;
}

bool HouseholdCache::FillAfterWrite(int64_t id, const SyncPoint& since, int64_t rev, std::string village_code,
                                    std::string json, std::shared_ptr<const Household> household) {
  std::lock_guard<std::mutex> g(mu_);
  auto inv = invalidated_.find(id);
  // Everything up to at_.rev is applied: a change to the household after `since` among them
  // (the write's own or another one) is known only by its last number, so nothing can be
  // confirmed. Otherwise the write's change is still to come, and the first change to the
  // household that a poll lists decides.
  if (rev <= at_.rev || since.day != at_.day || since.rev < horizon_ ||
      (inv != invalidated_.end() && inv->second > since.rev)) {
    ++stats_.refused_fills;
    return false;
  }
  auto doc = std::make_shared<const std::string>(std::move(json));
  if (bytes_ + 2 * doc->size() + 64 > max_bytes_) FlushLocked(0);
  auto [it, inserted] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (!inserted) bytes_ -= Bytes(e);
  e.village_code = std::move(village_code);
  e.detail = std::move(doc);
  e.summary.reset();  // the list's summary changed too (and is not computed here)
  e.household = std::move(household);
  e.confirm_at = rev;
  bytes_ += Bytes(e);
  ++stats_.write_fills;
  return true;
}

HouseholdCache::Stats HouseholdCache::stats() {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

}  // namespace doudi::registry

// A small keyed rate limiter for the public routes (no login): at most `limit` events per key
// in a fixed window of `window` that starts with the key's first event; beyond that the key is
// refused until its window ends.
//
// Events are reserved before the work they count is done (Acquire), so a parallel burst cannot
// pass more than `limit` of them; work that turns out not to count (a successful lookup, an
// application refused as invalid) gives its reservation back (Release).
//
// Memory is bounded: at most `max_keys` keys are held. Keys whose window has ended are dropped
// first; when all are live, the key whose window started first is dropped (its window is the
// nearest to its end). Thread-safe. The clock is injectable for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace doudi::http {

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // limit 0 refuses everything; a key is held for `window`.
  RateLimiter(int64_t limit, std::chrono::seconds window, size_t max_keys = 100000, Clock clock = {});

  // Counts one event for `key` and returns 0, or, when the key has used its limit, counts
  // nothing and returns the seconds until its window ends (at least 1).
  int64_t Acquire(const std::string& key);
  // Seconds until `key` may have an event (0: now), counting nothing.
  int64_t RetryAfter(const std::string& key);
  // Gives back one event counted by Acquire in the key's current window.
  void Release(const std::string& key);

  int64_t limit() const { return limit_; }
  size_t size();  // keys held (tests)

 private:
  struct Entry {
    std::chrono::steady_clock::time_point start;
    int64_t count = 0;
    std::list<std::string>::iterator order;
  };
  // The key's live entry (a new window when it had none or its window ended), or null for
  // a lookup that must not create one.
  Entry* Find(const std::string& key, std::chrono::steady_clock::time_point now, bool create);
  int64_t SecondsLeft(const Entry& e, std::chrono::steady_clock::time_point now) const;
  void Drop(std::unordered_map<std::string, Entry>::iterator it);

  const int64_t limit_;
  const std::chrono::seconds window_;
  const size_t max_keys_;
  const Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // keys by window start, oldest first
};

// The limits of the public routes (serve flags, docs/api.md "Public"): failed progress lookups
// per case number and per client address, online applications per client address and in all.
struct PublicLimitOptions {
  int64_t lookup_failures_per_case = 5;
  int64_t lookup_failures_per_address = 20;
  int64_t lookup_window_seconds = 900;
  int64_t submits_per_address = 10;
  int64_t submits_total = 300;
  int64_t submit_window_seconds = 3600;
};

// The key for a client's address: an IPv4 address as it is, an IPv6 address by its /64 (one
// subscriber's network, which hands its hosts any number of addresses), an IPv4-mapped IPv6
// address as the IPv4 address.
std::string ClientKey(const std::string& remote);

// The client's address: the connection's peer, or, when the peer is one of `trusted_proxies`
// (a reverse proxy in front of doudi), the last address of its X-Forwarded-For header (the one
// that proxy appended; nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for).
// A header from any other peer is ignored (a client cannot choose its own address).
std::string ClientAddress(const std::string& peer, std::string_view forwarded_for,
                          const std::vector<std::string>& trusted_proxies);

}  // namespace doudi::http

#include "http/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>

namespace doudi::http {

using TimePoint = std::chrono::steady_clock::time_point;

RateLimiter::RateLimiter(int64_t limit, std::chrono::seconds window, size_t max_keys, Clock clock)
    : limit_(std::max<int64_t>(0, limit)),
      window_(std::max(window, std::chrono::seconds(1))),
      max_keys_(std::max<size_t>(1, max_keys)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

void RateLimiter::Drop(std::unordered_map<std::string, Entry>::iterator it) {
  order_.erase(it->second.order);
  entries_.erase(it);
}

RateLimiter::Entry* RateLimiter::Find(const std::string& key, TimePoint now, bool create) {
  // Ended windows leave from the front (the list is in order of window start).
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    if (now - it->second.start < window_) break;
    Drop(it);
  }
  auto it = entries_.find(key);
  if (it != entries_.end()) return &it->second;
  if (!create) return nullptr;
  while (entries_.size() >= max_keys_) Drop(entries_.find(order_.front()));
  order_.push_back(key);
  Entry& e = entries_[key];
  e.start = now;
  e.count = 0;
  e.order = std::prev(order_.end());
  return &e;
}

int64_t RateLimiter::SecondsLeft(const Entry& e, TimePoint now) const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(e.start + window_ - now).count();
  return std::max<int64_t>(1, (left + 999) / 1000);
}

int64_t RateLimiter::Acquire(const std::string& key) {
  std::lock_guard<std::mutex> g(mu_);
  TimePoint now = clock_();
  if (limit_ == 0) return window_.count();
  Entry* e = Find(key, now, true);
  if (e->count >= limit_) return SecondsLeft(*e, now);
  ++e->count;
  return 0;
}

int64_t RateLimiter::RetryAfter(const std::string& key) {
  std::lock_guard<std::mutex> g(mu_);
  TimePoint now = clock_();
  if (limit_ == 0) return window_.count();
  Entry* e = Find(key, now, false);
  return e && e->count >= limit_ ? SecondsLeft(*e, now) : 0;
}

void RateLimiter::Release(const std::string& key) {
  std::lock_guard<std::mutex> g(mu_);
  Entry* e = Find(key, clock_(), false);
  if (e && e->count > 0) --e->count;
}

size_t RateLimiter::size() {
  std::lock_guard<std::mutex> g(mu_);
  return entries_.size();
}

std::string ClientKey(const std::string& remote) {
  in6_addr a6{};
  if (remote.find(':') == std::string::npos || inet_pton(AF_INET6, remote.c_str(), &a6) != 1) return remote;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, a6.s6_addr)) {
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, a6.s6_addr + 12, buf, sizeof buf)) return buf;
  }
  std::fill(a6.s6_addr + 8, a6.s6_addr + 16, 0);
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, &a6, buf, sizeof buf)) return remote;
  return std::string(buf) + "/64";
}

std::string ClientAddress(const std::string& peer, std::string_view forwarded_for,
                          const std::vector<std::string>& trusted_proxies) {
  if (forwarded_for.empty() || std::find(trusted_proxies.begin(), trusted_proxies.end(), peer) == trusted_proxies.end())
    return peer;
  size_t comma = forwarded_for.rfind(',');
  std::string_view last = comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  std::string addr(last);
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1 || inet_pton(AF_INET6, addr.c_str(), &a6) == 1) return addr;
  return peer;  // not an address: the proxy's own
}

}  // namespace doudi::http

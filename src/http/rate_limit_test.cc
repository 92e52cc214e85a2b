#include "http/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace doudi::http {
namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};

TEST(RateLimiter, RefusesBeyondTheLimitUntilTheWindowEnds) {
  FakeClock clock;
  RateLimiter rl(3, std::chrono::seconds(60), 100, clock.fn());
  EXPECT_EQ(rl.Acquire("a"), 0);
  EXPECT_EQ(rl.Acquire("a"), 0);
  EXPECT_EQ(rl.Acquire("a"), 0);
  EXPECT_EQ(rl.Acquire("a"), 60);
  EXPECT_EQ(rl.RetryAfter("a"), 60);
  EXPECT_EQ(rl.Acquire("b"), 0) << "keys are separate";
  clock.now += std::chrono::seconds(59);
  EXPECT_EQ(rl.Acquire("a"), 1);
  clock.now += std::chrono::milliseconds(1500);
  EXPECT_EQ(rl.RetryAfter("a"), 0);
  EXPECT_EQ(rl.Acquire("a"), 0) << "a new window";
}

TEST(RateLimiter, ReleaseGivesBackAnEvent) {
  FakeClock clock;
  RateLimiter rl(1, std::chrono::seconds(10), 100, clock.fn());
  EXPECT_EQ(rl.Acquire("k"), 0);
  EXPECT_GT(rl.Acquire("k"), 0);
  rl.Release("k");
  EXPECT_EQ(rl.Acquire("k"), 0);
  rl.Release("unknown");  // nothing to give back: no entry made
  EXPECT_EQ(rl.size(), 1u);
}

TEST(RateLimiter, ZeroLimitRefusesEverything) {
  RateLimiter rl(0, std::chrono::seconds(30));
  EXPECT_EQ(rl.Acquire("x"), 30);
  EXPECT_EQ(rl.RetryAfter("x"), 30);
}

TEST(RateLimiter, MemoryIsBoundedAndEndedWindowsGoFirst) {
  FakeClock clock;
  RateLimiter rl(1, std::chrono::seconds(10), 3, clock.fn());
  rl.Acquire("old");
  clock.now += std::chrono::seconds(5);
  rl.Acquire("b");
  rl.Acquire("c");
  EXPECT_EQ(rl.size(), 3u);
  rl.Acquire("d");  // full: the oldest window ("old") is dropped
  EXPECT_EQ(rl.size(), 3u);
  EXPECT_EQ(rl.RetryAfter("old"), 0);
  EXPECT_GT(rl.RetryAfter("b"), 0);
  clock.now += std::chrono::seconds(11);
  EXPECT_EQ(rl.RetryAfter("b"), 0);
  EXPECT_EQ(rl.size(), 0u) << "ended windows are dropped";
  for (int i = 0; i < 1000; ++i) rl.Acquire(std::to_string(i));
  EXPECT_EQ(rl.size(), 3u);
}

TEST(RateLimiter, AParallelBurstPassesExactlyTheLimit) {
  RateLimiter rl(37, std::chrono::seconds(600));
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        if (rl.Acquire("same") == 0) ++passed;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(passed.load(), 37);
}

TEST(ClientKey, Ipv6ByItsSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(ClientKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:2:ffff::9"));
  EXPECT_NE(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:3::1"));
  EXPECT_EQ(ClientKey("::ffff:198.51.100.4"), "198.51.100.4");
}

TEST(ClientAddress, ForwardedForOnlyFromATrustedProxy) {
  const std::vector<std::string> proxies = {"127.0.0.1"};
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.9", proxies), "203.0.113.9");
  EXPECT_EQ(ClientAddress("127.0.0.1", "1.2.3.4, 203.0.113.9", proxies), "203.0.113.9") << "the proxy's own entry";
  EXPECT_EQ(ClientAddress("127.0.0.1", "2001:db8::5", proxies), "2001:db8::5");
  EXPECT_EQ(ClientAddress("198.51.100.7", "203.0.113.9", proxies), "198.51.100.7") << "not a trusted peer";
  EXPECT_EQ(ClientAddress("198.51.100.7", "203.0.113.9", {}), "198.51.100.7");
  EXPECT_EQ(ClientAddress("127.0.0.1", "", proxies), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", "unknown", proxies), "127.0.0.1");
}

}  // namespace
}  // namespace doudi::http

// bench/policy: evaluates N synthetic households (default 1,000,000) with a county pack and
// reports households per second per core — the speed of `doudi simulate` and of what-if
// runs over a province. Not a test.
// Usage: build/bench_policy_eval [N] [county] [threads]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/citizen_id.h"
#include "policy/engine.h"

using namespace doudi::policy;

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 1000000;
  std::string county = argc > 2 ? argv[2] : "370725";
  int threads = argc > 3 ? std::stoi(argv[3]) : 1;
  auto pack = Pack::Load(DOUDI_SOURCE_DIR "/policies", county);
  if (!pack.ok()) {
    std::fprintf(stderr, "%s\n", pack.status().message().c_str());
    return 1;
  }
  auto params = ResolveParams(**pack, "2025-06-01");
  if (!params.ok()) return 1;

  // A realistic mix: 1–5 members, incomes around the standards, some disabled, ill, elderly,
  // in school; a few with emergencies and medical costs.
  std::mt19937_64 rng(7);
  std::vector<Facts> households(n);
  for (size_t i = 0; i < n; ++i) {
    Facts& f = households[i];
    f.urban = rng() % 3 == 0;
    f.hukou_division = county;
    int members = 1 + static_cast<int>(rng() % 5);
    for (int m = 0; m < members; ++m) {
      Member p;
      p.birth_y = 1935 + static_cast<int>(rng() % 85);
      p.birth_m = 1 + static_cast<int>(rng() % 12);
      p.birth_d = 1 + static_cast<int>(rng() % 28);
      p.relation = m == 0 ? "head" : "child";
      p.citizen_id = "370725" + std::to_string(p.birth_y) + "0101001X";
      if (rng() % 20 == 0) {
        p.disability = static_cast<DisabilityKind>(1 + rng() % 7);
        p.grade = 1 + static_cast<int>(rng() % 4);
      }
      p.serious_illness = rng() % 25 == 0;
      p.in_school = p.birth_y > 2005 && rng() % 2;
      p.employed = rng() % 2;
      p.has_supporter = rng() % 10 != 0;
      p.income[kWage] = p.employed ? static_cast<int64_t>(rng() % 300000) : 0;
      p.income[kPension] = p.birth_y < 1965 ? static_cast<int64_t>(rng() % 50000) : 0;
      f.members.push_back(std::move(p));
    }
    f.deposits_fen = static_cast<int64_t>(rng() % 5000000);
    f.vehicles = rng() % 15 == 0;
    f.medical_fen = rng() % 8 == 0 ? static_cast<int64_t>(rng() % 3000000) : 0;
    if (rng() % 50 == 0) {
      f.emergency = EmergencyKind::kFire;
      f.emergency_loss_fen = static_cast<int64_t>(rng() % 800000);
    }
  }

  std::vector<int64_t> cost(threads, 0), eligible(threads, 0);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; i < n; i += threads) {
        auto d = Evaluate(households[i], *params, nullptr);
        if (!d.ok()) continue;
        cost[t] += d->dibao_monthly() + d->tekun_monthly;
        eligible[t] += d->dibao || d->tekun;
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t total_cost = 0, total_eligible = 0;
  for (int t = 0; t < threads; ++t) {
    total_cost += cost[t];
    total_eligible += eligible[t];
  }
  std::printf("county %s: %zu households in %.3f s on %d thread(s): %.0f households/s, %.0f per core\n",
              county.c_str(), n, secs, threads, n / secs, n / secs / threads);
  std::printf("eligible (dibao or tekun): %lld, monthly cost %lld fen\n", static_cast<long long>(total_eligible),
              static_cast<long long>(total_cost));
  return 0;
}

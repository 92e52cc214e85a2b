// Long-running requests (a monthly monitoring run, a large feed import) started as background
// jobs: the request answers 202 with a job, the browser polls GET /api/v1/jobs/{id} for the
// step and progress, then reads the result or the error. Jobs live in memory (their results are
// in the database anyway); finished ones are kept for an hour. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "common/status.h"

namespace doudi::http {

class Jobs {
 public:
  using Progress = std::function<void(const std::string& step, uint64_t done, uint64_t total)>;
  using Fn = std::function<Result<nlohmann::json>(const Progress&)>;

  ~Jobs() { JoinAll(); }
  // Starts fn on its own thread. At most one job per key runs at a time: a second answers 409
  // naming the running one.
  Result<nlohmann::json> Start(const auth::User& owner, const std::string& kind, const std::string& key, Fn fn);
  // The job's state; only its owner sees it (404 for anyone else, as for a missing one).
  Result<nlohmann::json> Get(const auth::User& viewer, const std::string& id);
  // Waits for every running job (graceful shutdown).
  void JoinAll();

 private:
  struct Job {
    std::string id, kind, key, owner, status = "running", step;
    uint64_t done = 0, total = 0;
    nlohmann::json result, error;
    std::string started_at, finished_at;
    std::chrono::steady_clock::time_point finished;
  };
  static nlohmann::json ToJson(const Job& j);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads_;
};

}  // namespace doudi::http

#include "http/jobs.h"

#include <sodium.h>

#include "common/date.h"
#include "http/router.h"

namespace doudi::http {

using nlohmann::json;

json Jobs::ToJson(const Job& j) {
  return {{"id", j.id},         {"kind", j.kind},         {"status", j.status},
          {"step", j.step},     {"done", j.done},         {"total", j.total},
          {"result", j.result}, {"error", j.error},       {"started_at", j.started_at},
          {"finished_at", j.finished_at.empty() ? json(nullptr) : json(j.finished_at)}};
}

Result<json> Jobs::Start(const auth::User& owner, const std::string& kind, const std::string& key, Fn fn) {
  auto job = std::make_shared<Job>();
  unsigned char raw[12];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  job->id = hex;
  job->kind = kind;
  job->key = key;
  job->owner = owner.username;
  job->started_at = NowIsoShanghai();
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second->status == "running" && it->second->key == key)
        return Status(Code::kConflict, "conflict", "已有同类任务正在运行，请稍候", "");
      if (it->second->status != "running" && now - it->second->finished > std::chrono::hours(1)) it = jobs_.erase(it);
      else ++it;
    }
    // Threads of finished jobs are joined here (they have returned or are about to).
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (it->first->status != "running") {
        it->second.join();
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
    jobs_[job->id] = job;
    threads_.emplace_back(job, std::thread([this, job, fn = std::move(fn)] {
      Progress progress = [this, job](const std::string& step, uint64_t done, uint64_t total) {
        std::lock_guard lock(mu_);
        job->step = step;
        job->done = done;
        job->total = total;
      };
      Result<json> r = Status::Internal("job did not run");
      try {
        r = fn(progress);
      } catch (const std::exception& e) {
        r = Status::Internal(std::string("job threw: ") + e.what());
      }
      std::lock_guard lock(mu_);
      if (r.ok()) {
        job->status = "done";
        job->result = std::move(*r);
      } else {
        job->status = "failed";
        LogIfServerError("job " + job->kind, job->id, r.status());
        job->error = json::parse(ErrorResponse(r.status()).body, nullptr, false)["error"];
      }
      job->finished_at = NowIsoShanghai();
      job->finished = std::chrono::steady_clock::now();
    }));
    return ToJson(*job);
  }
}

Result<json> Jobs::Get(const auth::User& viewer, const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->owner != viewer.username) return Status::NotFound("任务不存在或已过期");
  return ToJson(*it->second);
}

void Jobs::JoinAll() {
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& [job, t] : threads)
    if (t.joinable()) t.join();
}

}  // namespace doudi::http

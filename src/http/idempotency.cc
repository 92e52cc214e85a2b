#include "http/idempotency.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "audit/audit_log.h"
#include "common/date.h"
#include "common/date.h"
#include "storage/idempotency.h"

namespace doudi::http {
namespace {

Status KeyError(const char* reason, std::string message) {
  return Status(Code::kConflict, reason, std::move(message), "Idempotency-Key");
}

// The stored answer of the key's first request; nullopt when the key has no record. Waits up
// to about five seconds for a first request that has not stored its answer yet.
Result<std::optional<Response>> Replay(storage::Database& db, const storage::IdempotencyClaim& claim) {
  for (int attempt = 0;; ++attempt) {
    {
      DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
      auto rs = conn->Query("SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
                            {claim.user_id, claim.key});
      if (!rs.ok()) return rs.status();
      if (rs->empty()) return std::optional<Response>();
      const auto& r = rs->rows[0];
      if (r.Text(0) != claim.request_hash)
        return KeyError("idempotency_key_reused", "该幂等键已用于另一项不同的请求，请重新打开表单后提交");
      if (!r.IsNull(1)) {
        Response out;
        out.status = static_cast<int>(r.Int(1));
        out.body = r.Text(2);
        out.headers.emplace_back("Idempotent-Replayed", "true");
        return std::optional<Response>(std::move(out));
      }
    }
    if (attempt >= 100)
      return KeyError("idempotency_in_progress", "相同的请求正在处理或已经提交，请刷新页面查看结果，勿重复提交");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The timestamp (ISO 8601, +08:00) of `days` days ago, comparable with created_at.
std::string NowIsoShanghaiDaysAgo(int days) {
  std::string now = NowIsoShanghai();
  return AddDays(now.substr(0, 10), -days) + now.substr(10);
}

bool ValidKey(const std::string& k) {
  if (k.empty() || k.size() > 128) return false;
  for (unsigned char ch : k)
    if (ch < 0x21 || ch > 0x7e) return false;
  return true;
}

}  // namespace

Handler Idempotent(storage::Database& db, Handler h) {
  return [&db, h = std::move(h)](Context& c) -> Result<Response> {
    const std::string& key = c.req.idempotency_key;
    if (key.empty() || !c.principal) return h(c);
    if (!ValidKey(key)) return Status::InvalidArgument("Idempotency-Key", "幂等键应为1到128个可见ASCII字符");
    storage::IdempotencyClaim claim;
    claim.user_id = c.user().id;
    claim.key = key;
    claim.request_hash = audit::Sha256Hex(c.req.method + "\n" + c.req.path + "\n" + c.req.body);
    DOUDI_ASSIGN_OR_RETURN(std::optional<Response> prior, Replay(db, claim));
    if (prior) return std::move(*prior);
    Result<Response> out = [&]() -> Result<Response> {
      storage::IdempotencyScope scope(&claim);
      return h(c);
    }();
    if (!out.ok()) {
      if (out.status().reason() != storage::kIdempotencyReplay) return out;
      // A concurrent request with the key committed first: its answer.
      DOUDI_ASSIGN_OR_RETURN(std::optional<Response> first, Replay(db, claim));
      if (first) return std::move(*first);
      return KeyError("idempotency_in_progress", "相同的请求正在处理，请稍后刷新页面查看结果");
    }
    if (claim.claimed) {
      // The create and the key's record are committed: the answer is stored for repeats. A
      // failure here leaves the record without an answer (a repeat then gets 409, never a
      // second write); this request's own answer stands.
      auto conn = db.Acquire();
      Status st = conn.ok() ? (*conn)
                                  ->Execute("UPDATE idempotency_keys SET status = ?, body = ? WHERE user_id = ? AND idem_key = ?",
                                            {int64_t{out->status}, out->body, claim.user_id, claim.key})
                                  .status()
                            : conn.status();
      if (!st.ok()) spdlog::warn("idempotency key answer not stored: {}", st.detail());
      // Keys are kept 7 days (a form is not resubmitted later than that): every 500th stored
      // answer removes the older ones.
      static std::atomic<uint64_t> stored{0};
      if (conn.ok() && ++stored % 500 == 0) {
        auto pruned = (*conn)->Execute("DELETE FROM idempotency_keys WHERE created_at < ?",
                                       {NowIsoShanghaiDaysAgo(7)});
        if (!pruned.ok()) spdlog::warn("idempotency keys not pruned: {}", pruned.status().detail());
      }
    }
    return out;
  };
}

}  // namespace doudi::http

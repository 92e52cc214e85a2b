#include "storage/idempotency.h"

#include "common/date.h"

namespace doudi::storage {
namespace {
thread_local IdempotencyClaim* t_claim = nullptr;
}  // namespace

IdempotencyScope::IdempotencyScope(IdempotencyClaim* claim) : previous_(t_claim) { t_claim = claim; }
IdempotencyScope::~IdempotencyScope() { t_claim = previous_; }

Status ClaimIdempotencyKey(Connection& conn) {
  IdempotencyClaim* c = t_claim;
  if (!c || c->claimed) return Status::Ok();
  auto n = conn.Execute(
      "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (user_id, idem_key) DO NOTHING",
      {c->user_id, c->key, c->request_hash, NowIsoShanghai()});
  if (!n.ok()) return n.status();
  if (*n == 0)
    return Status(Code::kConflict, kIdempotencyReplay, "该请求已提交过，请勿重复提交", "Idempotency-Key");
  c->claimed = true;
  return Status::Ok();
}

}  // namespace doudi::storage

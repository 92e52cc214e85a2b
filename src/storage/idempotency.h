// Idempotency-Key of a create (issue 17 #10): the HTTP layer sets the request's claim on its
// thread (IdempotencyScope); each create calls ClaimIdempotencyKey in its own write transaction
// just before the commit, so the key's record and the created rows commit together or not at
// all. A concurrent repeat with the same key finds the record (the primary key (user_id,
// idem_key) makes the second insert write nothing) and rolls back its transaction.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace doudi::storage {

struct IdempotencyClaim {
  int64_t user_id = 0;
  std::string key;
  std::string request_hash;  // SHA-256 of method, path and body
  bool claimed = false;      // set once the record was inserted on this thread
};

// While alive, the thread's creates claim `claim` (nullptr: none).
class IdempotencyScope {
 public:
  explicit IdempotencyScope(IdempotencyClaim* claim);
  ~IdempotencyScope();
  IdempotencyScope(const IdempotencyScope&) = delete;
  IdempotencyScope& operator=(const IdempotencyScope&) = delete;

 private:
  IdempotencyClaim* previous_;
};

// The reason of the status ClaimIdempotencyKey returns when the key is already recorded.
inline constexpr const char* kIdempotencyReplay = "idempotency_replay";

// Inserts the thread's key record in `conn`'s open transaction; Ok and nothing written when no
// key is set or it was already claimed by this request. A key another request recorded first:
// a Conflict with reason kIdempotencyReplay (the caller's transaction must roll back).
Status ClaimIdempotencyKey(Connection& conn);

}  // namespace doudi::storage

// Idempotent creates (issue 17 #10): a POST that carries an Idempotency-Key header (per user)
// is answered once. The first request runs the handler with the key set on its thread; the
// create writes the key's record in its own transaction (storage::ClaimIdempotencyKey) and,
// once committed, the answer (status and body) is stored with it. A repeat with the same key
// and the same method, path and body gets that answer without running the handler again;
// with a different request it gets 409 idempotency_key_reused; while the first is still
// running (or if it ended without storing an answer), 409 idempotency_in_progress after a
// short wait. Without the header the handler runs as before.
#pragma once

#include "http/router.h"
#include "storage/database.h"

namespace doudi::http {

Handler Idempotent(storage::Database& db, Handler h);

}  // namespace doudi::http

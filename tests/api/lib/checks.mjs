// Assertions on answers: the error envelope against the error table of docs/api.md, and statuses.
import assert from 'node:assert/strict';

// ---------------------------------------------------------------- assertions
/** The error table of docs/api.md: code → HTTP status. No other codes exist. */
export const ERROR_CODES = {
  malformed_json: 400, invalid_argument: 400, unauthenticated: 401, invalid_credentials: 401,
  csrf_failed: 403, permission_denied: 403, not_found: 404, method_not_allowed: 405,
  version_conflict: 409, conflict: 409, failed_precondition: 409, invalid_transition: 409, payload_too_large: 413, account_locked: 423, too_many_requests: 429, internal: 500,
  outcome_unknown: 500, committed_unread: 500, unavailable: 503,
  unsupported_media_type: 415, busy: 503,
  totp_required: 401, password_change_required: 403, totp_enrolment_required: 403,
  // Idempotency-Key (docs/api.md "Conventions"; issue 17).
  idempotency_key_reused: 409, idempotency_in_progress: 409,
};

/** Asserts the error envelope (with a documented code matching the status) and returns it. */
export function expectError(res, status, code, field) {
  const ctx = `${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, `expected HTTP ${status} ${code ?? ''}, got ${ctx}`);
  assert.ok(res.body && typeof res.body === 'object' && res.body.error, `no error envelope: ${ctx}`);
  const e = res.body.error;
  assert.ok(Object.hasOwn(ERROR_CODES, e.code), `undocumented error code "${e.code}": ${ctx}`);
  assert.equal(ERROR_CODES[e.code], res.status, `code ${e.code} with HTTP ${res.status}: ${ctx}`);
  if (code !== undefined) assert.equal(e.code, code, `error code: ${ctx}`);
  assert.equal(typeof e.message, 'string', `error.message: ${ctx}`);
  assert.ok(e.message.length > 0, `empty error.message: ${ctx}`);
  assert.equal(typeof e.field, 'string', `error.field must be a string: ${ctx}`);
  if (field !== undefined) assert.equal(e.field, field, `error field: ${ctx}`);
  return e;
}

export function expectStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what} expected ${status}, got ${res.status} ${res.text.slice(0, 800)}`);
  return res.body;
}

// Identification and sessions at MLPS level 3 (issue 17: #4, #5, #16 and the low findings on
// sessions, separation of duties and names): atomic lockout, unknown names answered like known
// ones, password rules, forced change and expiry, TOTP for the county admin and auditor,
// absolute session lifetime and purge, county admin and auditor accounts managed only by the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, as, tryLogin, login, expectError, expectStatus, createUser, strongPassword, uniq, dbCount, dbQuery,
  dbExec, sqlString, runBin, DB, PASSWORD, VILLAGE1, totpSecrets, totpCode, nextTotpCode,
} from './lib.mjs';

const failedTries = (userId) => dbCount('audit_log',
  `entity = 'user' AND entity_id = ${sqlString(String(userId))} AND action IN ('session.login_failed', 'session.lock')`);

test('#4 a parallel burst of 40 wrong passwords verifies at most 5; then the right one answers 423', async () => {
  const admin = await as('admin');
  const { user, username, password } = await createUser(admin);
  const burst = await Promise.all(Array.from({ length: 40 }, () => tryLogin(username, password + 'wrong')));
  for (const { res } of burst) assert.ok(res.status === 401 || res.status === 423, `${res.status} ${res.text}`);
  const checked = burst.filter(({ res }) => res.status === 401).length;
  assert.ok(checked <= 5, `${checked} tries answered 401 (passwords verified), at most 5 allowed`);
  assert.ok(failedTries(user.id) <= 5, `${failedTries(user.id)} failed logins logged, at most 5 allowed`);
  expectError((await tryLogin(username, password)).res, 423, 'account_locked');
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(username, password) {
  const c = new Client(username);
  const t0 = performance.now();
  const res = await c.post('/session', { username, password });
  const ms = performance.now() - t0;
  expectError(res, 401, 'invalid_credentials');
  return ms;
}

test('#5 unknown usernames cost what known ones cost (timing)', async () => {
  const admin = await as('admin');
  const known = [], unknown = [];
  for (let round = 0; round < 2; round++) {
    const { username } = await createUser(admin);
    for (let i = 0; i < 4; i++) {  // 4 per user: none of them locks it
      known.push(await timed(username, 'Wrong-Password-1'));
      unknown.push(await timed(uniq('nobody'), 'Wrong-Password-1'));
    }
  }
  const k = median(known), u = median(unknown);
  assert.ok(k / u < 3 && u / k < 3, `median known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`);
});

test('#5 an unknown username is locked after 5 failures (423) just like a known one', async () => {
  const admin = await as('admin');
  const { username } = await createUser(admin);
  const nobody = uniq('nobody');
  for (const name of [username, nobody]) {
    for (let i = 0; i < 5; i++) expectError((await tryLogin(name, 'Wrong-Password-1')).res, 401, 'invalid_credentials');
    const res = (await tryLogin(name, 'Wrong-Password-1')).res;
    expectError(res, 423, 'account_locked');
    assert.equal(res.body.error.message, '登录失败次数过多，账号已锁定15分钟');
  }
});

test('tries on a freshly locked name wait for the tries in flight in at most two request threads: a flood answers at once', async () => {
  // Locks an unknown name, then sends 20 tries within the 2 s in which a fresh lock makes a try
  // wait for concurrent ones. Without a bound every try held a request thread for ~2 s, so a
  // flood of such tries (cheap: any name will do) stopped the server answering anyone.
  const name = uniq('flood');
  for (let i = 0; i < 5; i++) await tryLogin(name, 'Wrong-Password-1');
  const started = Date.now();
  const times = await Promise.all(Array.from({ length: 20 }, async () => {
    const { res } = await tryLogin(name, 'Wrong-Password-1');
    expectError(res, 423, 'account_locked');
    return Date.now() - started;
  }));
  const quick = times.filter((ms) => ms < 1000).length;
  assert.ok(quick >= 17, `tries answered within 1 s: ${quick} of 20 (${times.join(', ')} ms)`);
  expectStatus(await new Client().get('/health'), 200);
});

test('password rules: 10 characters, three classes, not the username, not a common password', async () => {
  const admin = await as('admin');
  const before = dbCount('users');
  const username = uniq('rule');
  const cases = {
    'Abcdef12!': 'at 9 characters',
    abcdefghij12: 'two classes (lower case, digits)',
    ABCDEFGHIJ12: 'two classes (upper case, digits)',
    'abcdefgh!!@#': 'two classes (lower case, symbols)',
    [`X1${username}`]: 'contains the username',
    [`${username.toUpperCase()}a1`]: 'contains the username in another case',
    'Password@123': 'a common password',
    'P@ssw0rd123': 'a common password',
    'Admin@123456': 'a common password',
  };
  for (const [password, why] of Object.entries(cases)) {
    const res = await admin.post('/users', {
      username, password, display_name: '口令', role: 'village_assistant', region_code: VILLAGE1, department: '',
    });
    assert.equal(res.status, 400, `${why}: ${password} → ${res.status}`);
    expectError(res, 400, 'invalid_argument', 'password');
  }
  assert.equal(dbCount('users'), before);
  for (const password of ['Abcdefgh12', 'abcdefgh1!', 'ABCDEFGH1!', '长城长城长城Ab1!']) {
    const res = await admin.post('/users', {
      username: uniq('rule'), password, display_name: '口令', role: 'village_assistant', region_code: VILLAGE1, department: '',
    });
    assert.equal(res.status, 201, `${password}: ${res.text}`);
  }
});

test('an account created by the admin must change its password at first login; until then only that', async () => {
  const admin = await as('admin');
  const { user, username, password } = await createUser(admin);
  const { client, res } = await tryLogin(username, password);
  const s = expectStatus(res, 200);
  assert.equal(s.pending, 'password_change');
  assert.equal(s.user.must_change_credentials, true);
  expectError(await client.get('/households'), 403, 'password_change_required');
  expectError(await client.post('/households', {}), 403, 'password_change_required');
  assert.equal(expectStatus(await client.get('/session'), 200).pending, 'password_change');
  // wrong old password, weak or unchanged new one: refused, nothing changes
  expectError(await client.post('/session/password', { old_password: password + 'x', new_password: strongPassword() }),
    400, 'invalid_argument', 'old_password');
  expectError(await client.post('/session/password', { old_password: password, new_password: 'short1A' }),
    400, 'invalid_argument', 'new_password');
  expectError(await client.post('/session/password', { old_password: password, new_password: password }),
    400, 'invalid_argument', 'new_password');
  // without the CSRF token: refused
  const noCsrf = await client.post('/session/password', { old_password: password, new_password: strongPassword() }, { csrf: '' });
  expectError(noCsrf, 403, 'csrf_failed');
  const other = (await tryLogin(username, password)).client;  // a second session of the user
  const fresh = strongPassword();
  const changed = expectStatus(await client.post('/session/password', { old_password: password, new_password: fresh }), 200);
  assert.equal(changed.pending, '');
  expectStatus(await client.get('/households'), 200);
  expectError(await other.get('/session'), 401, 'unauthenticated');  // other sessions end
  expectError((await tryLogin(username, password)).res, 401, 'invalid_credentials');
  const again = await tryLogin(username, fresh);
  assert.equal(expectStatus(again.res, 200).pending, '');
  assert.equal(dbCount('audit_log', `action = 'user.change_password' AND entity_id = ${sqlString(String(user.id))}`), 1);
  // a reset by the admin forces a change again
  const v = Number(dbQuery(`SELECT version FROM users WHERE id = ${user.id}`)[0].version);
  const reset = strongPassword();
  expectStatus(await admin.patch(`/users/${user.id}`, { password: reset, version: v }), 200);
  assert.equal(expectStatus((await tryLogin(username, reset)).res, 200).pending, 'password_change');
});

test('a password older than 90 days must be changed at the next login', async () => {
  const admin = await as('admin');
  const { user, username, password } = await createUser(admin);
  await login(username, password);  // the first change
  const c = await login(username, password);
  expectStatus(await c.get('/households'), 200);
  dbExec(`UPDATE users SET password_changed_at = password_changed_at - ${91 * 86400} WHERE id = ${user.id}`);
  await new Promise((r) => setTimeout(r, 1100));  // the server's session cache
  expectError(await c.get('/households'), 403, 'password_change_required');
  const { res } = await tryLogin(username, password);
  assert.equal(expectStatus(res, 200).pending, 'password_change');
});

test('the demo admin and auditor log in with a TOTP code; wrong, missing and replayed codes are refused', async () => {
  for (const name of ['admin', 'auditor']) {
    assert.ok(totpSecrets.get(name), `no TOTP secret for ${name} (DOUDI_TOTP_SECRETS)`);
    expectError((await tryLogin(name, PASSWORD, { totp: false })).res, 401, 'totp_required', 'totp_code');
    const code = await nextTotpCode(name);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    expectError((await tryLogin(name, PASSWORD, { totp: wrong })).res, 401, 'invalid_credentials');
    expectStatus((await tryLogin(name, PASSWORD, { totp: code })).res, 200);
    expectError((await tryLogin(name, PASSWORD, { totp: code })).res, 401, 'invalid_credentials');  // replay
    // a wrong password with the right code says nothing about the code
    expectError((await tryLogin(name, PASSWORD + 'x')).res, 401, 'invalid_credentials');
    // the failures above count: reset them for the other tests
    dbExec(`UPDATE users SET failed_logins = 0 WHERE username = ${sqlString(name)}`);
    const c = await login(name);
    assert.equal(c.pending, '');
  }
});

test('a county admin created by the CLI changes the password, then must enrol TOTP before anything else', async () => {
  const username = uniq('ca');
  const password = strongPassword();
  const r = runBin(['user', 'add', '--db', DB, '--username', username, '--password', password, '--name', '县管理员',
    '--role', 'county_admin', '--region', '370725']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const { client, res } = await tryLogin(username, password);
  assert.equal(expectStatus(res, 200).pending, 'password_change');
  expectError(await client.post('/session/totp/confirm', { code: '000000' }), 409, 'failed_precondition');
  const fresh = strongPassword();
  const ch = expectStatus(await client.post('/session/password', { old_password: password, new_password: fresh }), 200);
  assert.equal(ch.pending, 'totp_enrolment');
  expectError(await client.get('/users'), 403, 'totp_enrolment_required');
  const begin = expectStatus(await client.post('/session/totp', {}), 200);
  assert.match(begin.secret, /^[A-Z2-7]{32}$/);
  assert.ok(begin.otpauth_uri.startsWith(`otpauth://totp/doudi:${username}?secret=${begin.secret}`), begin.otpauth_uri);
  const step = Math.floor(Date.now() / 30000);
  const bad = String((Number(totpCode(begin.secret, step)) + 1) % 1000000).padStart(6, '0');
  expectError(await client.post('/session/totp/confirm', { code: bad }), 400, 'invalid_argument', 'code');
  const ok = expectStatus(await client.post('/session/totp/confirm', { code: totpCode(begin.secret, step) }), 200);
  assert.equal(ok.pending, '');
  assert.equal(ok.user.totp_enabled, true);
  expectStatus(await client.get('/users'), 200);
  expectError(await client.post('/session/totp', {}), 409, 'failed_precondition');  // enrolled: no new secret
  // from now on the login needs the code
  totpSecrets.set(username, begin.secret);
  expectError((await tryLogin(username, fresh, { totp: false })).res, 401, 'totp_required');
  assert.equal(expectStatus((await tryLogin(username, fresh)).res, 200).pending, '');
  // the operator clears a lost second factor; the user enrols again
  const rt = runBin(['user', 'reset-totp', '--db', DB, username]);
  assert.equal(rt.code, 0, rt.stderr + rt.stdout);
  const after = await tryLogin(username, fresh, { totp: false });
  assert.equal(expectStatus(after.res, 200).pending, 'totp_enrolment');
  assert.equal(dbCount('audit_log', `action = 'user.reset_totp' AND actor = 'system'`) >= 1, true);
});

test('sessions end 12 hours after login however active; expired sessions are purged at login', async () => {
  const admin = await as('admin');
  const { user, username, password } = await createUser(admin);
  const c = await login(username, password);
  expectStatus(await c.get('/session'), 200);
  dbExec(`UPDATE sessions SET created_at = created_at - ${12 * 3600 + 60} WHERE user_id = ${user.id}`);
  await new Promise((r) => setTimeout(r, 1100));  // the server's session cache
  expectError(await c.get('/session'), 401, 'unauthenticated');
  // a stale row (3 days old, idle) is deleted by the next login of anyone
  const d = await login(username, password);
  dbExec(`UPDATE sessions SET created_at = created_at - ${3 * 86400}, last_seen = last_seen - ${3 * 86400} WHERE user_id = ${user.id}`);
  assert.ok(dbCount('sessions', `user_id = ${user.id}`) >= 1);
  await login('village1');
  assert.equal(dbCount('sessions', `user_id = ${user.id}`), 0);
  expectError(await d.get('/session'), 401, 'unauthenticated');
});

test('separation of duties: a county admin cannot create or change county admin and auditor accounts', async () => {
  const admin = await as('admin');
  const n = dbCount('users');
  for (const role of ['auditor', 'county_admin']) {
    const res = await admin.post('/users', {
      username: uniq('sod'), password: strongPassword(), display_name: '越权', role, region_code: '370725', department: '',
    });
    expectError(res, 403, 'permission_denied');
  }
  assert.equal(dbCount('users'), n);
  for (const name of ['auditor', 'admin']) {
    const row = dbQuery(`SELECT id, version, disabled, password_hash FROM users WHERE username = ${sqlString(name)}`)[0];
    for (const patch of [{ disabled: true }, { password: strongPassword() }, { display_name: '改名' }]) {
      expectError(await admin.patch(`/users/${row.id}`, { ...patch, version: Number(row.version) }), 403, 'permission_denied');
    }
    const after = dbQuery(`SELECT version, disabled, password_hash FROM users WHERE id = ${row.id}`)[0];
    assert.deepEqual(after, { version: row.version, disabled: row.disabled, password_hash: row.password_hash });
  }
  // the operator does it with the CLI, audited as system
  const username = uniq('aud');
  const r = runBin(['user', 'add', '--db', DB, '--username', username, '--password', strongPassword(), '--name', '审计员二',
    '--role', 'auditor', '--region', '370725']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const d = runBin(['user', 'disable', '--db', DB, username]);
  assert.equal(d.code, 0, d.stderr + d.stdout);
  const id = dbQuery(`SELECT id FROM users WHERE username = ${sqlString(username)}`)[0].id;
  assert.equal(dbCount('audit_log', `actor = 'system' AND entity_id = ${sqlString(String(id))} AND action IN ('user.create', 'user.disable')`), 2);
});

test('display names with control or bidirectional override characters are refused', async () => {
  const admin = await as('admin');
  const n = dbCount('users');
  for (const name of ['王\u202E五', '\u2066李四\u2069', '张\u200F三', '赵\u0007六']) {
    const res = await admin.post('/users', {
      username: uniq('bidi'), password: strongPassword(), display_name: name, role: 'village_assistant',
      region_code: VILLAGE1, department: '',
    });
    expectError(res, 400, 'invalid_argument', 'display_name');
  }
  assert.equal(dbCount('users'), n);
  const { user } = await createUser(admin);
  expectError(await admin.patch(`/users/${user.id}`, { display_name: 'evil\u202Egnp.exe', version: user.version }),
    400, 'invalid_argument', 'display_name');
});

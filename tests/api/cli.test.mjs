// The user-management and audit commands of the binary, against the live database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, login, tryLogin, expectError, expectStatus, runBin, listAll, strongPassword, uniq, dbCount, dbQuery,
  sqlString, createHousehold, householdInput, personInput, DB, T, VILLAGE1, PASSWORD,
} from './lib.mjs';

function userAdd(fields) {
  const args = ['user', 'add', '--db', DB, '--username', fields.username, '--password', fields.password,
    '--name', fields.name || 'CLI 用户', '--role', fields.role, '--region', fields.region];
  if (fields.department) args.push('--department', fields.department);
  return runBin(args);
}

test('doudi user add creates a user who can log in and shows up for the county admin', async () => {
  const username = uniq('cli');
  const password = strongPassword();
  const r = userAdd({ username, password, role: 'village_assistant', region: VILLAGE1 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const c = await login(username, password);
  assert.equal(c.user.role, 'village_assistant');
  assert.equal(c.user.region_code, VILLAGE1);
  const all = await listAll(await as('admin'), '/users');
  assert.ok(all.some(u => u.username === username));
  // refused: duplicate, weak password, unknown region — nothing written
  const n = dbCount('users');
  assert.notEqual(userAdd({ username, password, role: 'village_assistant', region: VILLAGE1 }).code, 0);
  assert.notEqual(userAdd({ username: uniq('cli'), password: 'weak', role: 'village_assistant', region: VILLAGE1 }).code, 0);
  assert.notEqual(userAdd({ username: uniq('cli'), password, role: 'village_assistant', region: '370725107999' }).code, 0);
  assert.notEqual(userAdd({ username: uniq('cli'), password, role: 'emperor', region: VILLAGE1 }).code, 0);
  assert.equal(dbCount('users'), n);
});

test('doudi user disable/enable and reset-password (which also unlocks)', async () => {
  const username = uniq('cli');
  const password = strongPassword();
  assert.equal(userAdd({ username, password, role: 'town_clerk', region: '370725107' }).code, 0);
  let r = runBin(['user', 'disable', '--db', DB, username]);
  assert.equal(r.code, 0, r.stderr);
  expectError((await tryLogin(username, password)).res, 401, 'invalid_credentials');
  r = runBin(['user', 'enable', '--db', DB, username]);
  assert.equal(r.code, 0, r.stderr);
  await login(username, password);
  for (let i = 0; i < 5; i++) await tryLogin(username, password + 'x');
  expectError((await tryLogin(username, password)).res, 423, 'account_locked');
  const fresh = strongPassword();
  r = runBin(['user', 'reset-password', '--db', DB, '--password', fresh, username]);
  assert.equal(r.code, 0, r.stderr);
  await login(username, fresh);
  expectError((await tryLogin(username, password)).res, 401, 'invalid_credentials');
  assert.notEqual(runBin(['user', 'disable', '--db', DB, uniq('nobody')]).code, 0, 'disabling an unknown user must fail');
});

test('doudi audit verify exits 0 on an intact log', async () => {
  await createHousehold(await as('village1'), VILLAGE1);
  const r = runBin(['audit', 'verify', '--db', DB]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, new RegExp(`\\b${dbCount(T.audit)}\\b`), 'prints the entry count');
});

test('a county admin created by the CLI for another county sees nothing of 370725', async () => {
  const username = uniq('sx');
  const password = strongPassword();
  const r = userAdd({ username, password, role: 'county_admin', region: '371522' });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const other = await login(username, password);
  assert.equal(other.user.region_name, '莘县');
  const h = await createHousehold(await as('village1'), VILLAGE1);
  const page = expectStatus(await other.get('/households?page_size=200'), 200);
  for (const i of page.items) assert.ok(i.village_code.startsWith('371522'), `sees ${i.village_code}`);
  const missing = await other.get('/households/987654321');
  const foreign = await other.get(`/households/${h.id}`);
  expectError(foreign, 404, 'not_found');
  assert.deepEqual(foreign.body, missing.body);
  expectError(await other.get(`/persons/${h.members[0].id}`), 404, 'not_found');
  const q = expectStatus(await other.get(`/households?q=${h.members[0].citizen_id}`), 200);
  assert.equal(q.total, 0);
  // cannot write into 370725
  const input = householdInput(VILLAGE1, [personInput()]);
  expectError(await other.post('/households', input), 404, 'not_found');
  assert.equal(dbCount(T.persons, `citizen_id = ${sqlString(input.members[0].citizen_id)}`), 0);
  // users of 370725 are not listed and cannot be changed
  const users = await listAll(other, '/users');
  assert.ok(!users.some(u => u.username === 'village1'), 'lists a user of another county');
  assert.ok(users.some(u => u.username === username));
  const v1 = dbQuery(`SELECT id, version FROM users WHERE username = 'village1'`)[0];
  const p = await other.patch(`/users/${v1.id}`, { disabled: true, version: Number(v1.version) });
  assert.ok(p.status === 404 || p.status === 403, `patch user of another county: ${p.status} ${p.text}`);
  expectError(p, p.status);
  assert.equal(Number(dbQuery(`SELECT disabled FROM users WHERE username = 'village1'`)[0].disabled), 0);
  const n = dbCount('users');
  const c = await other.post('/users', { username: uniq('x'), password: strongPassword(), display_name: 'x',
    role: 'village_assistant', region_code: VILLAGE1, department: '' });
  assert.ok([400, 403, 404].includes(c.status), `create user in another county: ${c.status} ${c.text}`);
  expectError(c, c.status);
  assert.equal(dbCount('users'), n);
  // the 370725 admin does not list the 371522 admin either
  const ours = await listAll(await as('admin'), '/users');
  assert.ok(!ours.some(u => u.username === username));
  // and the 371522 admin cannot read or change a 370725 town
  const pr = await other.get('/regions/370725107');
  expectError(pr, 404, 'not_found');
  const pp = await other.patch('/regions/370725107', { population: 1, version: 1 });
  assert.ok(pp.status === 404 || pp.status === 403, `${pp.status}`);
  expectError(pp, pp.status);
});

test('doudi seed-demo --json lists the demo users, each able to log in; seeding again changes no password and says so', async () => {
  const other = strongPassword();
  const r = runBin(['seed-demo', '--db', DB, '--json', '--password', other]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['users']);
  assert.ok(out.users.length >= 8, r.stdout);
  // (Adapted for issue 17: the county admin and auditor also carry their TOTP secret and URI.)
  for (const u of out.users) {
    const keys = ['county_admin', 'auditor'].includes(u.role)
      ? ['otpauth_uri', 'region_code', 'role', 'totp_secret', 'username'] : ['region_code', 'role', 'username'];
    assert.deepEqual(Object.keys(u).sort(), keys, JSON.stringify(u));
  }
  const roles = new Set(out.users.map(u => u.role));
  for (const role of ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer', 'village_assistant',
    'department_liaison', 'supervisor', 'auditor']) assert.ok(roles.has(role), `a demo ${role}`);
  const villages = out.users.filter(u => u.role === 'village_assistant').map(u => u.region_code);
  assert.ok(new Set(villages).size >= 2, 'at least two villages with their own assistant');
  // The database was seeded before: the users keep their password (not `other`).
  for (const u of out.users) {
    const c = await login(u.username);
    assert.equal(c.user.role, u.role);
    assert.equal(c.user.region_code, u.region_code);
  }
  const { res } = await tryLogin(out.users[0].username, other);
  expectError(res, 401, 'invalid_credentials');
  const text = runBin(['seed-demo', '--db', DB, '--password', other]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /演示账号已存在，密码未改动/);
  assert.ok(!text.stdout.includes(other), 'the unused password is not printed as theirs');
  // Run with the password they have, it is printed (a second `make run`).
  const same = runBin(['seed-demo', '--db', DB, '--password', PASSWORD]);
  assert.equal(same.code, 0, same.stderr);
  assert.ok(same.stdout.includes(`演示账号（密码均为 ${PASSWORD}）`), same.stdout);
});

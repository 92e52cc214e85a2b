// Issue 17, case access and workflow: findings #3 (case papers read by the department liaison),
// #9 (one county's holiday edits moved another county's deadlines), #10 (double submission:
// Idempotency-Key), #12 (a village assistant's confirmation of an alert suspended a benefit)
// and #14 (lists of full citizen ids and names not read-logged). Each test failed on the code
// before the fix (commit 5fc6e0a).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import {
  as, DB, PASSWORD, COUNTY, TOWN1, VILLAGE1, VILLAGE2, expectError, expectStatus, createHousehold, householdInput,
  personInput, dbQuery, dbExec, dbCount, sqlString, runBin, uniq, newCase, actOk, wfPayload, getApp, todayShanghai,
  citizenId, citizenIdOf, chineseName, randomBirth, workingDays, reserveBalance, dibaoMembers,
} from './lib.mjs';

const TODAY = todayShanghai();
const ZJ = '520524'; // 织金: another county
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex').toString('base64');

function reads(username, where = '1=1') { return dbCount('read_log', `actor = ${sqlString(username)} AND ${where}`); }
function head(h) { return h.members.find(m => m.relation === 'head'); }
function key() { return `k-${randomBytes(12).toString('hex')}`; }
function withKey(k) { return { headers: { 'idempotency-key': k } }; }

/** Adds a user through the CLI (織金, a county other than the demo's) and logs it in. */
let zjAdminCache = null;
async function zjAdmin() {
  if (zjAdminCache) return zjAdminCache;
  const username = uniq('zjadm');
  const r = runBin(['user', 'add', '--db', DB, '--username', username, '--password', PASSWORD, '--name', '织金管理员',
    '--role', 'county_admin', '--region', ZJ]);
  assert.equal(r.code, 0, r.stderr);
  zjAdminCache = { username, client: await as(username) };
  return zjAdminCache;
}

function insertEnrollment(h) {
  const covered = JSON.stringify(h.members.map(m => m.citizen_id));
  const now = `${TODAY}T09:00:00+08:00`;
  dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at) VALUES (${Number(h.id)}, ${sqlString(h.county_code)},
    ${sqlString(h.town_code)}, ${sqlString(h.village_code)}, 'dibao', ${sqlString(covered)}, 60000, ${sqlString(TODAY.slice(0, 7))},
    'active', ${sqlString(TODAY)}, '${now}', '${now}')`);
  return Number(dbQuery(`SELECT max(id) AS id FROM enrollments WHERE household_id = ${Number(h.id)}`)[0].id);
}

function insertImproperAlert(h) {
  const p = head(h);
  const month = `2047-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
  dbExec(`INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code,
    town_code, village_code, month, details, status, due_date, created_at, updated_at) VALUES
    ('deceased_still_paid', 'improper', 'high', ${sqlString(p.citizen_id)}, ${sqlString(p.name)}, ${Number(h.id)},
     ${sqlString(h.county_code)}, ${sqlString(h.town_code)}, ${sqlString(h.village_code)}, ${sqlString(month)},
     '{"source":"test"}', 'new', '2099-12-31', '${TODAY}T08:00:00+08:00', '${TODAY}T08:00:00+08:00')`);
  return Number(dbQuery(`SELECT max(id) AS id FROM alerts WHERE household_id = ${Number(h.id)}`)[0].id);
}

function enrollmentStatus(id) { return dbQuery(`SELECT status FROM enrollments WHERE id = ${Number(id)}`)[0].status; }

// ---------------------------------------------------------------- #3
test('#3 the case papers (notices, print page, attachments) follow the case access rule; reads are logged', async () => {
  const { household, app } = await newCase({ village: VILLAGE1 });
  const clerk = await as('town_clerk');
  await actOk(clerk, app.id, 'request_documents', wfPayload('request_documents'), 'documents_requested');
  const notice = (await getApp(app.id, clerk)).notices[0];
  assert.ok(notice, 'a notice of the case');
  const att = expectStatus(await clerk.post(`/applications/${app.id}/attachments`,
    { kind: 'authorization', filename: '授权书.png', content_type: 'image/png', data_base64: PNG }), 201, 'attachment');

  const liaison = await as('liaison');
  const denied = [`/applications/${app.id}`, `/applications/${app.id}/timeline`, `/notices/${notice.id}`,
    `/notices/${notice.id}/print`, `/attachments/${att.id}`, `/households/${household.id}/file`];
  const before = reads('liaison');
  for (const path of denied) {
    const res = await liaison.get(path);
    assert.ok([403, 404].includes(res.status), `liaison GET ${path}: ${res.status} ${res.text.slice(0, 200)}`);
    assert.ok(!res.text.includes(head(household).citizen_id.slice(-4) + '</'), `liaison GET ${path} carries no paper`);
    expectError(res, res.status);
  }
  // the same answer for a missing id: nothing told about which ids exist
  for (const path of ['/notices/987654321', '/notices/987654321/print', '/attachments/987654321']) {
    const res = await liaison.get(path);
    assert.ok([403, 404].includes(res.status), `liaison GET ${path}: ${res.status}`);
  }
  assert.equal(reads('liaison'), before, 'nothing read-logged for refused reads');

  // a village assistant of another village: 404, like a missing id
  const v2 = await as('village2');
  for (const path of [`/notices/${notice.id}`, `/notices/${notice.id}/print`, `/attachments/${att.id}`])
    expectError(await v2.get(path), 404, 'not_found');

  // the in-scope clerk and the case's own village assistant read them, and each read is logged
  for (const who of ['town_clerk', 'village1']) {
    const c = await as(who);
    const n0 = reads(who, `entity = 'notice' AND entity_id = '${notice.id}'`);
    const a0 = reads(who, `entity = 'attachment' AND entity_id = '${att.id}'`);
    const doc = expectStatus(await c.get(`/notices/${notice.id}`), 200, `${who} notice`);
    assert.equal(doc.application_id, app.id);
    const print = await c.get(`/notices/${notice.id}/print`);
    assert.equal(print.status, 200, `${who} print`);
    assert.match(print.headers.get('content-type'), /text\/html/);
    const file = await c.get(`/attachments/${att.id}`);
    assert.equal(file.status, 200, `${who} attachment`);
    assert.equal(reads(who, `entity = 'notice' AND entity_id = '${notice.id}'`), n0 + 2, `${who}: notice reads logged`);
    assert.equal(reads(who, `entity = 'attachment' AND entity_id = '${att.id}'`), a0 + 1, `${who}: attachment read logged`);
  }
});

// ---------------------------------------------------------------- #9
test('#9 a county edits its own calendar only; State Council holidays apply to all; deadlines use the case county', async () => {
  const admin = await as('admin');
  const zj = (await zjAdmin()).client;
  const addDays = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
  let monday = '2098-03-02';
  while (new Date(`${monday}T00:00:00Z`).getUTCDay() !== 1) monday = addDays(monday, 1);
  const friday = addDays(monday, -3);
  // the deadlines of 370725 as they stand, before the other county edits anything
  const expected = {};
  for (let n = 1; n <= 20; n++) expected[n] = await workingDays(TODAY, n, admin);
  const next = [expected[1], expected[2], expected[3]];
  try {
    expectStatus(await zj.put(`/holidays/${monday}`, { kind: 'holiday', name: '织金测试假日' }), 200, 'zj PUT');
    for (const d of next) expectStatus(await zj.put(`/holidays/${d}`, { kind: 'holiday', name: '织金测试假日' }), 200, 'zj PUT');
    // the other county's change is the other county's only
    assert.equal(await workingDays(friday, 1, zj), addDays(monday, 1), '织金 skips its own holiday');
    assert.equal(await workingDays(friday, 1, admin), monday, '昌乐 is not moved by 织金');
    const zjList = expectStatus(await zj.get('/holidays?year=2098'), 200);
    assert.ok(zjList.items.some(i => i.day === monday), '织金 lists its holiday');
    const list = expectStatus(await admin.get('/holidays?year=2098'), 200);
    assert.ok(!list.items.some(i => i.day === monday), '昌乐 does not list 织金\'s holiday');
    // the State Council's days still apply to both; a county may take one off for itself only
    for (const c of [admin, zj]) assert.equal(await workingDays('2025-09-30', 1, c), '2025-10-09');
    // a day that is in no calendar cannot be deleted
    expectError(await zj.del(`/holidays/${addDays(monday, 1)}`), 404, 'not_found');
  } finally {
    await zj.del(`/holidays/${monday}`);
    for (const d of next) await zj.del(`/holidays/${d}`);
  }
  try {
    // a State Council holiday removed for 织金 only
    expectStatus(await zj.del('/holidays/2025-10-08'), 200, 'zj removes 2025-10-08 for itself');
    assert.equal(await workingDays('2025-10-07', 1, zj), '2025-10-08');
    assert.equal(await workingDays('2025-10-07', 1, admin), '2025-10-09', '昌乐 keeps the State Council holiday');
    const y25 = expectStatus(await admin.get('/holidays?year=2025'), 200);
    assert.equal(y25.items.find(i => i.day === '2025-10-08')?.kind, 'holiday');
  } finally {
    expectStatus(await zj.put('/holidays/2025-10-08', { kind: 'holiday', name: '国庆节' }), 200, 'restore');
  }
  assert.equal(await workingDays('2025-10-07', 1, zj), '2025-10-09');

  // a case's deadline follows its own county's calendar, whatever another county did
  try {
    for (const d of next) expectStatus(await zj.put(`/holidays/${d}`, { kind: 'holiday', name: '织金测试假日' }), 200);
    const { app } = await newCase({ village: VILLAGE1 });
    const accepted = await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
    const tl = expectStatus(await (await as('town_clerk')).get(`/applications/${app.id}/timeline`), 200);
    const n = tl.items.find(i => i.action === 'accept').details.working_days;
    assert.equal(accepted.due_date, expected[n], `due date after ${n} working days of 昌乐`);
  } finally {
    for (const d of next) await zj.del(`/holidays/${d}`);
  }
});

// ---------------------------------------------------------------- #10
test('#10 Idempotency-Key: an emergency aid sent twice in parallel and twice again is written and paid once', async () => {
  const clerk = await as('town_clerk');
  const balance0 = await reserveBalance(clerk, TOWN1);
  const marker = uniq('急难');
  const body = { person_name: chineseName(), citizen_id: citizenId({ birth: randomBirth(1970, 1990) }), hukou_division: COUNTY,
    kind: 'fire', loss_fen: 5000, amount_fen: 1234, description: marker };
  const k = key();
  const [a, b] = await Promise.all([clerk.post('/emergency-aid', body, withKey(k)), clerk.post('/emergency-aid', body, withKey(k))]);
  const c = await clerk.post('/emergency-aid', body, withKey(k));
  const d = await clerk.post('/emergency-aid', body, withKey(k));
  for (const r of [a, b, c, d]) {
    assert.equal(r.status, 201, r.text.slice(0, 300));
    assert.deepEqual(r.body, a.body, 'the same answer each time');
  }
  assert.equal(dbCount('emergency_aid', `description = ${sqlString(marker)}`), 1, 'one row');
  assert.equal(await reserveBalance(clerk, TOWN1), balance0 - 1234, 'the reserve is debited once');
  // the same key with another body is refused, nothing written
  const other = await clerk.post('/emergency-aid', { ...body, amount_fen: 999 }, withKey(k));
  expectError(other, 409, 'idempotency_key_reused', 'Idempotency-Key');
  assert.equal(await reserveBalance(clerk, TOWN1), balance0 - 1234);
  // another user's same key is another request
  const d2 = await (await as('town_reviewer')).post('/emergency-aid', { ...body, description: marker + '2' }, withKey(k));
  assert.equal(d2.status, 201, d2.text.slice(0, 300));
  // a bad key is named
  expectError(await clerk.post('/emergency-aid', body, withKey('x'.repeat(300))), 400, 'invalid_argument', 'Idempotency-Key');
});

test('#10 Idempotency-Key: applications, households, members, credit, relatives, deposits are created once', async () => {
  const clerk = await as('town_clerk');
  const admin = await as('admin');
  // applications: two in parallel, then two in sequence
  const h = await createHousehold(clerk, VILLAGE1, dibaoMembers());
  const appBody = { household_id: h.id, authorization: true, commitment: true, note: '重复提交测试' };
  const k = key();
  const rs = await Promise.all([clerk.post('/applications', appBody, withKey(k)), clerk.post('/applications', appBody, withKey(k))]);
  rs.push(await clerk.post('/applications', appBody, withKey(k)));
  for (const r of rs) {
    assert.equal(r.status, 201, r.text.slice(0, 300));
    assert.equal(r.body.id, rs[0].body.id);
  }
  assert.deepEqual(rs[2].body, rs.find(r => r.body.id === rs[2].body.id).body);
  assert.equal(dbCount('applications', `household_id = ${Number(h.id)}`), 1, 'one application');

  const twice = async (client, path, body, table, where) => {
    const kk = key();
    const before = dbCount(table, where);
    const r1 = await client.post(path, body, withKey(kk));
    const r2 = await client.post(path, body, withKey(kk));
    assert.equal(r1.status, 201, `${path}: ${r1.text.slice(0, 300)}`);
    assert.equal(r2.status, r1.status, path);
    assert.deepEqual(r2.body, r1.body, `${path}: the same answer`);
    assert.equal(dbCount(table, where), before + 1, `${path}: one row`);
    return r1.body;
  };
  const hin = householdInput(VILLAGE1);
  await twice(clerk, '/households', hin, 'persons', `citizen_id = ${sqlString(hin.members[0].citizen_id)}`);
  const member = personInput({ relation: 'child' });
  await twice(clerk, `/households/${h.id}/members`, member, 'persons', `citizen_id = ${sqlString(member.citizen_id)}`);
  const cid = citizenId();
  await twice(admin, '/credit', { citizen_id: cid, name: chineseName(), list: 'trust', reason: '守信' }, 'credit_entries',
    `citizen_id = ${sqlString(cid)}`);
  const rid = citizenId();
  await twice(admin, '/staff-relatives', { citizen_id: rid, name: chineseName(), staff_name: '张三', relation: '配偶' },
    'staff_relatives', `citizen_id = ${sqlString(rid)}`);
  const note = uniq('拨付');
  await twice(admin, `/reserve-funds/${TOWN1}/deposits`, { amount_fen: 100, note }, 'reserve_movements', `reason = ${sqlString(note)}`);
  // without a key the old behaviour stays (each request is its own)
  expectStatus(await clerk.post('/applications', appBody), 201);
  assert.equal(dbCount('applications', `household_id = ${Number(h.id)}`), 2);
});

// ---------------------------------------------------------------- #12
test('#12 a village assistant\'s confirmation of a wrong payment is a proposal; the town confirms or rejects it', async () => {
  const v1 = await as('village1');
  const clerk = await as('town_clerk');
  const h = await createHousehold(clerk, VILLAGE1, dibaoMembers());
  const enr = insertEnrollment(h);
  const alert = insertImproperAlert(h);
  const proposed = expectStatus(await v1.post(`/alerts/${alert}/actions`,
    { action: 'resolve', confirmed: true, note: '入户核实：户主已去世。', version: 1 }), 200, 'village proposes');
  assert.equal(proposed.status, 'proposed');
  assert.equal(proposed.suspended_enrollments, 0);
  assert.equal(enrollmentStatus(enr), 'active', 'nothing is suspended by the village assistant');
  // the village assistant cannot confirm its own proposal
  expectError(await v1.post(`/alerts/${alert}/actions`, { action: 'confirm', version: proposed.version }), 403, 'permission_denied');
  assert.equal(enrollmentStatus(enr), 'active');
  // the town sees the proposal and confirms it: now the benefit is suspended
  const open = expectStatus(await clerk.get('/alerts?status=proposed&page_size=200'), 200);
  const item = open.items.find(i => i.id === alert);
  assert.ok(item, 'the town lists the proposal');
  assert.equal(item.proposed_by, 'village1');
  const done = expectStatus(await clerk.post(`/alerts/${alert}/actions`, { action: 'confirm', version: proposed.version }), 200);
  assert.equal(done.status, 'resolved');
  assert.equal(done.suspended_enrollments, 1);
  assert.equal(enrollmentStatus(enr), 'suspended');

  // a rejected proposal goes back to verification, nothing suspended
  const h2 = await createHousehold(clerk, VILLAGE1, dibaoMembers());
  const enr2 = insertEnrollment(h2);
  const alert2 = insertImproperAlert(h2);
  const p2 = expectStatus(await v1.post(`/alerts/${alert2}/actions`,
    { action: 'resolve', confirmed: true, note: '疑似违规。', version: 1 }), 200);
  expectError(await clerk.post(`/alerts/${alert2}/actions`, { action: 'reject', version: p2.version }), 400, 'invalid_argument', 'note');
  const back = expectStatus(await clerk.post(`/alerts/${alert2}/actions`,
    { action: 'reject', note: '核实有误，户主健在。', version: p2.version }), 200);
  assert.equal(back.status, 'verifying');
  assert.equal(enrollmentStatus(enr2), 'active');
});

// ---------------------------------------------------------------- #14
test('#14 lists with full citizen ids or names are read-logged', async () => {
  const admin = await as('admin');
  const clerk = await as('town_clerk');
  // data for each list
  const h = await createHousehold(clerk, VILLAGE2, dibaoMembers());
  insertEnrollment(h);
  expectStatus(await admin.post('/credit', { citizen_id: citizenId(), name: chineseName(), list: 'trust', reason: '守信' }), 201);
  expectStatus(await admin.post('/staff-relatives',
    { citizen_id: citizenId(), name: chineseName(), staff_name: '李四', relation: '子女' }), 201);
  const hv = await createHousehold(clerk, VILLAGE2, dibaoMembers());
  expectStatus(await clerk.post('/applications', { household_id: hv.id, authorization: true, commitment: true, hukou_county: ZJ }), 201);
  for (const [who, path] of [['town_clerk', '/enrollments'], ['admin', '/enrollments'], ['admin', '/credit'],
    ['admin', '/staff-relatives'], ['admin', '/verification-requests'], ['town_clerk', '/verification-requests']]) {
    const before = reads(who);
    const body = expectStatus(await (await as(who)).get(path), 200, `${who} GET ${path}`);
    assert.ok(body.items.length > 0, `${path} has rows`);
    assert.ok(reads(who) > before, `${who} GET ${path} is read-logged`);
  }
});

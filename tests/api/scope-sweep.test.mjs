// Region-scope sweep (docs/api.md "Conventions": a resource outside the user's region scope answers
// 404 `not_found` exactly like a missing one; never 403, never the data). Every route that takes an
// id is called by users outside the resource's region: the answer must be the very body a
// nonexistent id gets, nothing may be written (row unchanged, no new row, no audit entry by that
// user) and nothing may be read-logged for that user. List routes with a region filter pointing
// outside the scope, and unfiltered lists, must never carry a row of another region.
//
// Where a role may not use a route at all (e.g. a village assistant on a county-only route), the
// route answers 403 for every id, existing or not: that tells nothing about the id, so those calls
// are checked to answer exactly like a missing id.
//
// Regions: 乔官镇 (TOWN1) holds VILLAGE1 and VILLAGE2, 宝都街道 (TOWN2) holds VILLAGE3; county-level
// routes are probed across counties with users of 织金 (520524) added through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  as, downloadXlsx, DB, PASSWORD, COUNTY, TOWN1, TOWN2, VILLAGE1, VILLAGE2, VILLAGE3, expectError, expectStatus,
  householdInput, personInput, createHousehold, listAll, dbQuery, dbExec, dbCount, sqlString, runBin, uniq,
  newCase, driveTo, dibaoMembers, caseFootprint, getApp, actOk, wfPayload, todayShanghai, citizenId,
  citizenIdOf, chineseName, randomBirth, createUser, unusedMonth,
} from './lib.mjs';

const MISSING = 987654321;
const TODAY = todayShanghai();
const THIS_MONTH = TODAY.slice(0, 7);
const ZJ = '520524'; // 织金: another county
const S = {}; // the resources made by the setup
// Months of this file's alerts and runs: 2037–2046 (the monitoring tests pick 2027–2036).
const MONTHS = [2037, 2046];

// ---------------------------------------------------------------- helpers
/** The out-of-scope answer must be 404 not_found with exactly the body of a missing id. */
function expectHidden(res, missing, what) {
  expectError(missing, 404, 'not_found');
  expectError(res, 404, 'not_found');
  assert.deepEqual(res.body, missing.body, `${what}: the body differs from a missing id's`);
  assert.equal(res.headers.get('content-type'), missing.headers.get('content-type'), `${what}: content type`);
}

/** A role that may never use the route: the same error as for a missing id (no data, nothing about the id). */
function expectLikeMissing(res, missing, what) {
  assert.ok(res.status >= 400, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
  expectError(res, res.status);
  assert.equal(res.status, missing.status, `${what}: status differs from a missing id's (${res.text.slice(0, 300)})`);
  assert.deepEqual(res.body, missing.body, `${what}: the body differs from a missing id's`);
}

/** What a refused call must leave as it was: the audit and read-log entries of the caller. */
function footprint(username) {
  return {
    audit: dbCount('audit_log', `actor = ${sqlString(username)}`),
    reads: dbCount('read_log', `actor = ${sqlString(username)}`),
  };
}

function row(table, id) {
  const rows = dbQuery(`SELECT * FROM ${table} WHERE id = ${Number(id)}`);
  assert.equal(rows.length, 1, `${table} row ${id}`);
  return rows[0];
}

function head(h) { return h.members.find(m => m.relation === 'head'); }

/** An open alert (category missing), written as a monitoring run would. */
function insertAlert(h, month) {
  const p = head(h);
  dbExec(`INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code,
    town_code, village_code, month, details, status, due_date, created_at, updated_at) VALUES
    ('at_risk_not_covered', 'missing', 'high', ${sqlString(p.citizen_id)}, ${sqlString(p.name)}, ${Number(h.id)},
     ${sqlString(h.county_code)}, ${sqlString(h.town_code)}, ${sqlString(h.village_code)}, ${sqlString(month)},
     '{"source":"at_risk"}', 'new', '2099-12-31', '${TODAY}T08:00:00+08:00', '${TODAY}T08:00:00+08:00')`);
  return Number(dbQuery(`SELECT max(id) AS id FROM alerts WHERE household_id = ${Number(h.id)} AND month = ${sqlString(month)}`)[0].id);
}

/** An active dibao enrollment of a household (as an approval would leave it), review due this month. */
function insertEnrollment(h) {
  const covered = JSON.stringify(h.members.map(m => m.citizen_id));
  const now = `${TODAY}T09:00:00+08:00`;
  dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at) VALUES (${Number(h.id)}, ${sqlString(h.county_code)},
    ${sqlString(h.town_code)}, ${sqlString(h.village_code)}, 'dibao', ${sqlString(covered)}, 60000, ${sqlString(THIS_MONTH)},
    'active', ${sqlString(TODAY)}, '${now}', '${now}')`);
  return Number(dbQuery(`SELECT max(id) AS id FROM enrollments WHERE household_id = ${Number(h.id)}`)[0].id);
}

function ensureFunds(town, min = 2000000) {
  const [r] = dbQuery(`SELECT balance_fen FROM reserve_funds WHERE town_code = ${sqlString(town)}`);
  if (!r || Number(r.balance_fen) < min) dbExec(`UPDATE reserve_funds SET balance_fen = balance_fen + ${min * 2} WHERE town_code = ${sqlString(town)}`);
}

function aidInput(overrides = {}) {
  return {
    person_name: chineseName(), citizen_id: citizenId({ birth: randomBirth(1970, 1990) }), hukou_division: COUNTY,
    kind: 'fire', loss_fen: 5000, amount_fen: 1000, description: '夜间失火，急需生活救助。', ...overrides,
  };
}

/** Adds a user through the CLI (a county other than the demo's) and logs it in. */
async function cliUser(prefix, role, region, department) {
  const username = uniq(prefix);
  const args = ['user', 'add', '--db', DB, '--username', username, '--password', PASSWORD, '--name', '织金测试用户',
    '--role', role, '--region', region];
  if (department) args.push('--department', department);
  const r = runBin(args);
  assert.equal(r.code, 0, r.stderr);
  return { username, client: await as(username) };
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex').toString('base64');
function attachmentInput() { return { kind: 'other', filename: '扫描件.png', content_type: 'image/png', data_base64: PNG }; }

/** An exported workbook of this month's screening: {status, text (its cells, one per line)}. */
function exportText(client, kind) {
  return downloadXlsx(client, `/screening/export?month=${THIS_MONTH}&kind=${kind}`);
}

// ---------------------------------------------------------------- setup
test('setup: households, cases, notices, attachments, enrollments, referrals, alerts, aid, credit, requests, a job', async () => {
  // Registry: one household per demo village (village2's with a child to update/delete).
  S.h1 = await createHousehold(await as('village1'), VILLAGE1);
  S.h2 = await createHousehold(await as('village2'), VILLAGE2, [personInput({ relation: 'head' }), personInput({ relation: 'child' })]);
  S.h3 = await createHousehold(await as('village3'), VILLAGE3, [personInput({ relation: 'head' }), personInput({ relation: 'child' })]);
  assert.equal(S.h2.town_code, TOWN1);
  assert.equal(S.h3.town_code, TOWN2);

  // A case of VILLAGE2 driven to enrolled: notices, an enrollment, a medical referral (seriously ill spouse).
  const c2 = await newCase({ village: VILLAGE2, members: dibaoMembers({ spouse: { serious_illness: true } }) });
  S.app2 = c2.app;
  S.h2case = c2.household;
  S.att2 = expectStatus(await (await as('town_clerk')).post(`/applications/${S.app2.id}/attachments`, attachmentInput()), 201, 'attachment v2');
  await driveTo(S.app2.id, 'enrolled');
  const full2 = await getApp(S.app2.id);
  assert.ok(full2.notices.length >= 2, `notices of the VILLAGE2 case: ${JSON.stringify(full2.notices)}`);
  S.notice2 = full2.notices[0];
  assert.equal(full2.enrollments.length >= 1, true, 'an enrollment');
  S.enr2 = full2.enrollments[0];
  S.ref2 = full2.referrals.find(r => r.kind === 'medical');
  assert.ok(S.ref2, `a medical referral: ${JSON.stringify(full2.referrals)}`);
  dbExec(`UPDATE enrollments SET next_review_date = ${sqlString(TODAY)} WHERE id = ${Number(S.enr2.id)}`); // listed this month

  // A live case of VILLAGE2 (state received) for the actions, attachments and link_household.
  S.app2b = (await newCase({ village: VILLAGE2 })).app;
  S.att2b = expectStatus(await (await as('village2')).post(`/applications/${S.app2b.id}/attachments`, attachmentInput()), 201, 'attachment by village2');

  // A case of VILLAGE3 (宝都街道): documents requested (a notice), an attachment, an enrollment.
  const c3 = await newCase({ village: VILLAGE3 });
  S.app3 = c3.app;
  S.h3case = c3.household;
  await actOk(await as('town2_clerk'), S.app3.id, 'request_documents', wfPayload('request_documents'), 'documents_requested');
  S.notice3 = (await getApp(S.app3.id, await as('town2_clerk'))).notices[0];
  assert.ok(S.notice3, 'a notice of the VILLAGE3 case');
  S.att3 = expectStatus(await (await as('town2_clerk')).post(`/applications/${S.app3.id}/attachments`, attachmentInput()), 201, 'attachment v3');
  S.enr3 = insertEnrollment(S.h3);

  // Alerts of one unused month in each village.
  S.alertMonth = unusedMonth(...MONTHS);
  S.alert1 = insertAlert(S.h1, S.alertMonth);
  S.alert2 = insertAlert(S.h2, S.alertMonth);
  S.alert3 = insertAlert(S.h3, S.alertMonth);

  // Emergency aid: one per town, each for a household of the town.
  ensureFunds(TOWN1);
  ensureFunds(TOWN2);
  S.aid1 = expectStatus(await (await as('town_clerk')).post('/emergency-aid', aidInput({ household_id: S.h2.id })), 201, 'aid of 乔官镇');
  S.aid3 = expectStatus(await (await as('town2_clerk')).post('/emergency-aid', aidInput({ household_id: S.h3.id })), 201, 'aid of 宝都街道');
  assert.equal(S.aid1.state, 'paid');
  assert.equal(S.aid3.state, 'paid');

  // Users of another county (织金).
  S.zjAdmin = await cliUser('zjadm', 'county_admin', ZJ);
  S.zjLiaison = await cliUser('zjlia', 'department_liaison', ZJ, '医保局');
  S.zjTown = dbQuery(`SELECT code FROM regions WHERE level = 'town' AND code LIKE '${ZJ}%' ORDER BY code LIMIT 1`)[0].code;

  // Credit entries of each county (dishonesty, not yet repaid).
  const credit = (cid) => ({ citizen_id: cid, name: chineseName(), list: 'dishonesty', reason: '骗取救助金', owed_fen: 120000 });
  S.credit370 = expectStatus(await (await as('admin')).post('/credit', credit(citizenId())), 201, 'credit 370725');
  S.creditZj = expectStatus(await S.zjAdmin.client.post('/credit', credit(citizenIdOf(ZJ))), 201, 'credit 520524');

  // A cross-county verification request: a VILLAGE2 applicant whose hukou is in 织金.
  const hv = await createHousehold(await as('town_clerk'), VILLAGE2, dibaoMembers());
  const av = expectStatus(await (await as('town_clerk')).post('/applications',
    { household_id: hv.id, authorization: true, commitment: true, hukou_county: ZJ }), 201, 'application with hukou_county');
  const [vr] = dbQuery(`SELECT id FROM verification_requests WHERE application_id = ${Number(av.id)}`);
  assert.ok(vr, 'a verification request');
  S.vr = Number(vr.id);
  S.vrApp = av;

  // A throwaway user of 370725 (target of another county's admin).
  S.user370 = (await createUser(await as('admin'), { region_code: VILLAGE1 })).user;

  // A background job of admin (an async monitoring run of an unused month), waited for.
  const run = expectStatus(await (await as('admin')).post('/monitor/runs', { month: unusedMonth(...MONTHS), async: true }), 202, 'async run');
  S.job = run.job;
  for (let i = 0; i < 100; i++) {
    const j = expectStatus(await (await as('admin')).get(`/jobs/${S.job.id}`), 200, 'own job');
    if (j.status !== 'running') break;
    await new Promise(r => setTimeout(r, 100));
  }
});

// ---------------------------------------------------------------- households and persons
test('GET /households/{id}: other village, other town → the missing-id 404; nothing read-logged', async () => {
  const cases = [['village1', S.h2], ['village1', S.h3], ['village2', S.h1], ['town_clerk', S.h3], ['town2_clerk', S.h2], ['village3', S.h1]];
  for (const [u, h] of cases) {
    const c = await as(u);
    const before = footprint(u);
    const missing = await c.get(`/households/${MISSING}`);
    const res = await c.get(`/households/${h.id}`);
    expectHidden(res, missing, `${u} GET household of ${h.village_code}`);
    assert.ok(!res.text.includes(head(h).citizen_id) && !res.text.includes(head(h).name), `${u}: no data of the household`);
    assert.deepEqual(footprint(u), before, `${u}: a refused read is neither audited nor read-logged`);
  }
  // control: the owner's read answers and is read-logged
  const v2 = await as('village2');
  const before = footprint('village2');
  expectStatus(await v2.get(`/households/${S.h2.id}`), 200);
  assert.equal(footprint('village2').reads, before.reads + 1, 'an allowed read is read-logged');
});

test('PUT /households/{id}: other village/town → 404 like a missing id; the row and the audit log unchanged', async () => {
  const { members, ...fields } = householdInput(VILLAGE2);
  for (const [u, h, village] of [['village1', S.h2, VILLAGE2], ['village1', S.h2, VILLAGE1], ['town_clerk', S.h3, VILLAGE3],
    ['town_clerk', S.h3, VILLAGE1], ['town2_clerk', S.h2, VILLAGE2]]) {
    const c = await as(u);
    const rowBefore = row('households', h.id);
    const before = footprint(u);
    const body = { ...fields, village_code: village, version: rowBefore.version };
    const missing = await c.put(`/households/${MISSING}`, body);
    const res = await c.put(`/households/${h.id}`, body);
    expectHidden(res, missing, `${u} PUT household of ${h.village_code} (→ ${village})`);
    assert.deepEqual(row('households', h.id), rowBefore, `${u}: household ${h.id} unchanged`);
    assert.deepEqual(footprint(u), before, `${u}: nothing audited`);
  }
});

test('GET /households/{id}/determinations and /file: other village/town → 404 like a missing id, nothing read-logged', async () => {
  for (const sub of ['determinations', 'file']) {
    for (const [u, h] of [['village1', S.h2], ['village1', S.h2case], ['town_clerk', S.h3], ['town2_clerk', S.h2case]]) {
      const c = await as(u);
      const before = footprint(u);
      const missing = await c.get(`/households/${MISSING}/${sub}`);
      const res = await c.get(`/households/${h.id}/${sub}`);
      expectHidden(res, missing, `${u} GET /households/${h.id}/${sub}`);
      assert.deepEqual(footprint(u), before, `${u} ${sub}: nothing read-logged`);
    }
    // control: the town sees the file of its case, and the read is logged (docs/api.md)
    const before = footprint('town_clerk');
    const ok = expectStatus(await (await as('town_clerk')).get(`/households/${S.h2case.id}/${sub}`), 200, `town_clerk ${sub}`);
    if (sub === 'file') assert.ok(ok.applications.some(a => String(a.id) === String(S.app2.id)));
    assert.equal(footprint('town_clerk').reads, before.reads + 1, `${sub}: an allowed read is read-logged`);
  }
});

test('POST /households/{id}/members: other village/town → 404 like a missing id; no person added', async () => {
  for (const [u, h] of [['village1', S.h2], ['town_clerk', S.h3], ['town2_clerk', S.h2]]) {
    const c = await as(u);
    const newcomer = personInput({ relation: 'child' });
    const members = dbCount('persons', `household_id = ${Number(h.id)}`);
    const before = footprint(u);
    const missing = await c.post(`/households/${MISSING}/members`, newcomer);
    const res = await c.post(`/households/${h.id}/members`, newcomer);
    expectHidden(res, missing, `${u} POST member into ${h.village_code}`);
    assert.equal(dbCount('persons', `household_id = ${Number(h.id)}`), members, 'no member added');
    assert.equal(dbCount('persons', `citizen_id = ${sqlString(newcomer.citizen_id)}`), 0, 'the newcomer is nowhere');
    assert.deepEqual(footprint(u), before, `${u}: nothing audited`);
  }
});

test('GET/PUT/DELETE /persons/{id}: other village/town → 404 like a missing id; person unchanged, nothing logged', async () => {
  const child2 = S.h2.members.find(m => m.relation === 'child');
  const child3 = S.h3.members.find(m => m.relation === 'child');
  for (const [u, p] of [['village1', child2], ['village1', child3], ['town_clerk', child3], ['town2_clerk', child2]]) {
    const c = await as(u);
    const rowBefore = row('persons', p.id);
    const before = footprint(u);
    const get = await c.get(`/persons/${p.id}`);
    expectHidden(get, await c.get(`/persons/${MISSING}`), `${u} GET person`);
    assert.ok(!get.text.includes(p.citizen_id));
    const body = { ...personInput({ relation: 'child', citizen_id: p.citizen_id, name: '改名测试' }), version: rowBefore.version };
    expectHidden(await c.put(`/persons/${p.id}`, body), await c.put(`/persons/${MISSING}`, body), `${u} PUT person`);
    expectHidden(await c.del(`/persons/${p.id}?version=${rowBefore.version}`), await c.del(`/persons/${MISSING}?version=${rowBefore.version}`),
      `${u} DELETE person`);
    assert.deepEqual(row('persons', p.id), rowBefore, `${u}: person ${p.id} unchanged`);
    assert.deepEqual(footprint(u), before, `${u}: nothing audited or read-logged`);
  }
  const before = footprint('village2');
  expectStatus(await (await as('village2')).get(`/persons/${child2.id}`), 200);
  assert.equal(footprint('village2').reads, before.reads + 1, 'an allowed person read is read-logged');
});

// ---------------------------------------------------------------- applications
test('GET /applications/{id} and /timeline: other village/town → 404 like a missing id', async () => {
  for (const sub of ['', '/timeline']) {
    for (const [u, a] of [['village1', S.app2], ['village1', S.app2b], ['village1', S.app3], ['town2_clerk', S.app2],
      ['town_clerk', S.app3], ['village3', S.app2b]]) {
      const c = await as(u);
      const before = footprint(u);
      const res = await c.get(`/applications/${a.id}${sub}`);
      expectHidden(res, await c.get(`/applications/${MISSING}${sub}`), `${u} GET /applications/${a.id}${sub}`);
      assert.ok(!res.text.includes(a.case_no), 'no case number');
      assert.deepEqual(footprint(u), before, `${u}: nothing logged`);
    }
  }
  // control: the case's own village reads it, and each read of the record is logged
  const reads = () => dbCount('read_log', `actor = 'village2' AND entity = 'application' AND entity_id = '${S.app2b.id}'`);
  const before = reads();
  expectStatus(await (await as('village2')).get(`/applications/${S.app2b.id}/timeline`), 200);
  expectStatus(await (await as('village2')).get(`/applications/${S.app2b.id}`), 200);
  assert.equal(reads(), before + 2, 'the reads of an application are read-logged');
  // a department liaison reads neither the record nor its timeline
  const liaison = await as('liaison');
  for (const sub of ['', '/timeline']) expectError(await liaison.get(`/applications/${S.app2b.id}${sub}`), 403, 'permission_denied');
});

test('POST /applications/{id}/actions: other village/town → 404 like a missing id; the case unchanged', async () => {
  const tries = [
    ['town_clerk', S.app3, 'accept', {}], // the clerk's role may accept: only the scope refuses
    ['town_clerk', S.app3, 'withdraw', wfPayload('withdraw')],
    ['town2_clerk', S.app2b, 'accept', {}],
    ['town2_clerk', S.app2b, 'record_signatures', wfPayload('record_signatures')],
    ['village1', S.app2b, 'record_signatures', wfPayload('record_signatures')],
    ['village1', S.app3, 'withdraw', wfPayload('withdraw')],
  ];
  for (const [u, a, action, payload] of tries) {
    const c = await as(u);
    const fp = caseFootprint(a.id);
    const before = footprint(u);
    const body = { action, version: fp.row.version, ...payload };
    const res = await c.post(`/applications/${a.id}/actions`, body);
    expectHidden(res, await c.post(`/applications/${MISSING}/actions`, body), `${u} ${action} on case of ${a.village_code}`);
    assert.deepEqual(caseFootprint(a.id), fp, `${u} ${action}: the case unchanged`);
    assert.deepEqual(footprint(u), before, `${u}: nothing audited`);
  }
});

test('ids inside bodies: a household of another region → 404 like a missing one, nothing written', async () => {
  // link_household on an own case with another town's household
  const clerk = await as('town_clerk');
  const fp = caseFootprint(S.app2b.id);
  const body = (hid) => ({ action: 'link_household', version: fp.row.version, household_id: hid });
  expectHidden(await clerk.post(`/applications/${S.app2b.id}/actions`, body(S.h3.id)),
    await clerk.post(`/applications/${S.app2b.id}/actions`, body(MISSING)), 'link_household with a 宝都 household');
  assert.deepEqual(caseFootprint(S.app2b.id), fp);
  // an application for another village's household
  const v1 = await as('village1');
  const apps = dbCount('applications');
  const appBody = (hid) => ({ household_id: hid, authorization: true, commitment: true });
  expectHidden(await v1.post('/applications', appBody(S.h2.id)), await v1.post('/applications', appBody(MISSING)), 'village1 files for village2');
  expectHidden(await clerk.post('/applications', appBody(S.h3.id)), await clerk.post('/applications', appBody(MISSING)), 'town_clerk files for 宝都');
  assert.equal(dbCount('applications'), apps, 'no application created');
  // emergency aid for another town's household
  const aids = dbCount('emergency_aid');
  expectHidden(await clerk.post('/emergency-aid', aidInput({ household_id: S.h3.id })),
    await clerk.post('/emergency-aid', aidInput({ household_id: MISSING })), 'aid for a 宝都 household');
  assert.equal(dbCount('emergency_aid'), aids, 'no aid recorded');
  // a screening visit of another village's household
  const visits = dbCount('screening_visits');
  const visit = (hid) => ({ month: THIS_MONTH, household_id: hid, result: 'no_change', visited_on: TODAY });
  expectHidden(await v1.post('/screening/visits', visit(S.h2.id)), await v1.post('/screening/visits', visit(MISSING)), 'visit in village2');
  expectHidden(await clerk.post('/screening/visits', visit(S.h3.id)), await clerk.post('/screening/visits', visit(MISSING)), 'visit in 宝都');
  assert.equal(dbCount('screening_visits'), visits, 'no visit recorded');
});

test('POST /applications/{id}/attachments and GET /attachments/{id}: other village/town → 404 like a missing id', async () => {
  for (const [u, a] of [['village1', S.app2b], ['village1', S.app3], ['town_clerk', S.app3], ['town2_clerk', S.app2b]]) {
    const c = await as(u);
    const n = dbCount('attachments', `application_id = ${Number(a.id)}`);
    const fp = caseFootprint(a.id);
    const before = footprint(u);
    expectHidden(await c.post(`/applications/${a.id}/attachments`, attachmentInput()),
      await c.post(`/applications/${MISSING}/attachments`, attachmentInput()), `${u} attaches to case of ${a.village_code}`);
    assert.equal(dbCount('attachments', `application_id = ${Number(a.id)}`), n, 'no attachment stored');
    assert.deepEqual(caseFootprint(a.id), fp);
    assert.deepEqual(footprint(u), before);
  }
  for (const [u, att] of [['village1', S.att2b], ['village1', S.att2], ['village1', S.att3], ['town_clerk', S.att3], ['town2_clerk', S.att2b]]) {
    const c = await as(u);
    const before = footprint(u);
    expectHidden(await c.get(`/attachments/${att.id}`), await c.get(`/attachments/${MISSING}`), `${u} GET attachment ${att.id}`);
    assert.deepEqual(footprint(u), before, `${u}: nothing read-logged`);
  }
  const before = footprint('village2');
  const ok = await (await as('village2')).get(`/attachments/${S.att2b.id}`);
  expectStatus(ok, 200, 'own attachment');
  assert.equal(footprint('village2').reads, before.reads + 1, 'an allowed attachment read is read-logged');
});

test('GET /notices/{id} and /print: other village/town → 404 like a missing id, nothing read-logged', async () => {
  for (const sub of ['', '/print']) {
    for (const [u, n] of [['village1', S.notice2], ['village1', S.notice3], ['town2_clerk', S.notice2], ['town_clerk', S.notice3]]) {
      const c = await as(u);
      const before = footprint(u);
      const res = await c.get(`/notices/${n.id}${sub}`);
      expectHidden(res, await c.get(`/notices/${MISSING}${sub}`), `${u} GET /notices/${n.id}${sub}`);
      assert.ok(!/<html/i.test(res.text), 'no notice page');
      assert.deepEqual(footprint(u), before);
    }
  }
  expectStatus(await (await as('village2')).get(`/notices/${S.notice2.id}`), 200, 'own notice');
});

// ---------------------------------------------------------------- enrollments, referrals, alerts
test('POST /enrollments/{id}/actions: another town → 404 like a missing id; village staff get the role\'s 403 for any id', async () => {
  for (const [u, e] of [['town2_clerk', S.enr2.id], ['town_clerk', S.enr3], ['town_reviewer', S.enr3]]) {
    const c = await as(u);
    const rowBefore = row('enrollments', e);
    const before = footprint(u);
    const body = { action: 'suspend', version: Number(rowBefore.version), reason: '越权暂停测试' };
    expectHidden(await c.post(`/enrollments/${e}/actions`, body), await c.post(`/enrollments/${MISSING}/actions`, body), `${u} suspends enrollment ${e}`);
    assert.deepEqual(row('enrollments', e), rowBefore, 'enrollment unchanged');
    assert.deepEqual(footprint(u), before);
  }
  const v1 = await as('village1');
  const rowBefore = row('enrollments', S.enr2.id);
  const body = { action: 'suspend', version: Number(rowBefore.version), reason: '越权暂停测试' };
  expectLikeMissing(await v1.post(`/enrollments/${S.enr2.id}/actions`, body), await v1.post(`/enrollments/${MISSING}/actions`, body), 'village1 on a village2 enrollment');
  assert.deepEqual(row('enrollments', S.enr2.id), rowBefore);
});

test('POST /referrals/{id}/actions: other village/town/county → 404 like a missing id; the referral unchanged', async () => {
  for (const [u, c] of [['village1', await as('village1')], ['town2_clerk', await as('town2_clerk')], [S.zjLiaison.username, S.zjLiaison.client]]) {
    const rowBefore = row('referrals', S.ref2.id);
    const before = footprint(u);
    const body = { action: 'accept', note: '越权受理测试' };
    expectHidden(await c.post(`/referrals/${S.ref2.id}/actions`, body), await c.post(`/referrals/${MISSING}/actions`, body), `${u} accepts a VILLAGE2 referral`);
    assert.deepEqual(row('referrals', S.ref2.id), rowBefore, 'referral unchanged');
    assert.deepEqual(footprint(u), before);
  }
});

test('POST /alerts/{id}/actions: other village/town → 404 like a missing id; the alert unchanged', async () => {
  for (const [u, id] of [['village1', S.alert2], ['village1', S.alert3], ['village2', S.alert1], ['town_clerk', S.alert3], ['town2_clerk', S.alert2]]) {
    const c = await as(u);
    const rowBefore = row('alerts', id);
    const before = footprint(u);
    const body = { action: 'resolve', version: Number(rowBefore.version), confirmed: true, note: '越权核查测试' };
    expectHidden(await c.post(`/alerts/${id}/actions`, body), await c.post(`/alerts/${MISSING}/actions`, body), `${u} resolves alert ${id}`);
    assert.deepEqual(row('alerts', id), rowBefore, 'alert unchanged');
    assert.deepEqual(footprint(u), before);
  }
});

// ---------------------------------------------------------------- emergency aid, reserve funds
test('POST /emergency-aid/{id}/actions: another town → 404 like a missing id; the aid unchanged', async () => {
  for (const [u, aid] of [['town_clerk', S.aid3], ['town_reviewer', S.aid3], ['village1', S.aid3], ['town2_clerk', S.aid1], ['village3', S.aid1]]) {
    const c = await as(u);
    const rowBefore = row('emergency_aid', aid.id);
    const before = footprint(u);
    const body = { action: 'complete_paperwork', version: Number(rowBefore.version), note: '越权补办测试' };
    expectHidden(await c.post(`/emergency-aid/${aid.id}/actions`, body), await c.post(`/emergency-aid/${MISSING}/actions`, body),
      `${u} on aid of ${aid.town_code}`);
    assert.deepEqual(row('emergency_aid', aid.id), rowBefore, 'aid unchanged');
    assert.deepEqual(footprint(u), before);
  }
});

test('emergency aid for a household of village2 is not shown to village1, nor can village1 tell it from a missing id', async () => {
  // The aid record is the town's, but aid1 is personal data of a VILLAGE2 household (S.h2): the
  // village assistant of VILLAGE1 (who may neither record nor act on aid) must not read it.
  const v1 = await as('village1');
  const listed = (await listAll(v1, '/emergency-aid')).find(i => String(i.id) === String(S.aid1.id));
  const body = { action: 'complete_paperwork', version: Number(row('emergency_aid', S.aid1.id).version) };
  const act = await v1.post(`/emergency-aid/${S.aid1.id}/actions`, body);
  const missing = await v1.post(`/emergency-aid/${MISSING}/actions`, body);
  const problems = [];
  if (listed) problems.push(`GET /emergency-aid lists aid ${S.aid1.id} of a VILLAGE2 household: ${JSON.stringify(listed)}`);
  if (act.status !== missing.status || act.text !== missing.text)
    problems.push(`POST /emergency-aid/${S.aid1.id}/actions → ${act.status} ${act.text} (a missing id → ${missing.status} ${missing.text})`);
  assert.deepEqual(problems, [], 'village1 reaches emergency aid of a VILLAGE2 household');
});

test('POST /reserve-funds/{town}/deposits: a town of another county → 404 like a missing town; no money moves', async () => {
  const balance = (t) => dbQuery(`SELECT balance_fen FROM reserve_funds WHERE town_code = ${sqlString(t)}`).map(r => Number(r.balance_fen));
  for (const [u, c, town, missingTown] of [['admin', await as('admin'), S.zjTown, '520524999'], ['admin', await as('admin'), S.zjTown, '110105001'],
    [S.zjAdmin.username, S.zjAdmin.client, TOWN1, '370725999']]) {
    const b = balance(town);
    const moves = dbCount('reserve_movements', `town_code = ${sqlString(town)}`);
    const before = footprint(u);
    const body = { amount_fen: 100000, note: '越权拨付测试' };
    expectHidden(await c.post(`/reserve-funds/${town}/deposits`, body), await c.post(`/reserve-funds/${missingTown}/deposits`, body), `${u} deposits into ${town}`);
    assert.deepEqual(balance(town), b, 'balance unchanged');
    assert.equal(dbCount('reserve_movements', `town_code = ${sqlString(town)}`), moves, 'no movement');
    assert.deepEqual(footprint(u), before);
  }
  // town staff may never deposit: the role's 403 for any town
  const tc = await as('town2_clerk');
  const body = { amount_fen: 100000, note: '越权拨付测试' };
  expectLikeMissing(await tc.post(`/reserve-funds/${TOWN1}/deposits`, body), await tc.post('/reserve-funds/370725999/deposits', body), 'town2_clerk deposits into 乔官镇');
  // a well-formed code of no town of the county: 404 like any missing town, not a 409
  expectError(await (await as('admin')).post('/reserve-funds/370725999/deposits', body), 404, 'not_found');
  assert.equal(dbCount('reserve_movements', "town_code = '370725999'"), 0);
});

// ---------------------------------------------------------------- county-level routes
test('POST /credit/{id}/repay: another county\'s entry → 404 like a missing id; town/village roles 403 for any id', async () => {
  for (const [u, c, entry] of [['admin', await as('admin'), S.creditZj], ['reviewer', await as('reviewer'), S.creditZj],
    [S.zjAdmin.username, S.zjAdmin.client, S.credit370]]) {
    const rowBefore = row('credit_entries', entry.id);
    const before = footprint(u);
    expectHidden(await c.post(`/credit/${entry.id}/repay`, {}), await c.post(`/credit/${MISSING}/repay`, {}), `${u} repays entry ${entry.id}`);
    assert.deepEqual(row('credit_entries', entry.id), rowBefore, 'entry unchanged');
    assert.deepEqual(footprint(u), before);
  }
  for (const u of ['village1', 'town_clerk']) {
    const c = await as(u);
    expectLikeMissing(await c.post(`/credit/${S.credit370.id}/repay`, {}), await c.post(`/credit/${MISSING}/repay`, {}), `${u} repays`);
  }
  assert.equal(row('credit_entries', S.credit370.id).repaid_at, null);
});

test('POST /verification-requests/{id}/answer: a request to another county → 404 like a missing id; unchanged', async () => {
  for (const u of ['admin', 'reviewer']) {
    const c = await as(u);
    const rowBefore = row('verification_requests', S.vr);
    const before = footprint(u);
    expectHidden(await c.post(`/verification-requests/${S.vr}/answer`, { answer: '越权答复' }),
      await c.post(`/verification-requests/${MISSING}/answer`, { answer: '越权答复' }), `${u} answers a request to 织金`);
    assert.deepEqual(row('verification_requests', S.vr), rowBefore);
    assert.deepEqual(footprint(u), before);
  }
  for (const u of ['town_clerk', 'town2_clerk', 'village1']) {
    const c = await as(u);
    expectLikeMissing(await c.post(`/verification-requests/${S.vr}/answer`, { answer: 'x' }),
      await c.post(`/verification-requests/${MISSING}/answer`, { answer: 'x' }), `${u} answers`);
  }
  assert.equal(row('verification_requests', S.vr).status, 'open');
});

test('PATCH /regions/{code} and GET /regions/{code}: another county / village → 404 like a missing code', async () => {
  for (const [u, c, code, missingCode] of [['admin', await as('admin'), S.zjTown, '370725999'], [S.zjAdmin.username, S.zjAdmin.client, TOWN1, `${ZJ}999`],
    [S.zjAdmin.username, S.zjAdmin.client, TOWN2, `${ZJ}998`]]) {
    const rowBefore = dbQuery(`SELECT * FROM regions WHERE code = ${sqlString(code)}`);
    const before = footprint(u);
    const body = { population: 1, version: Number(rowBefore[0].version) };
    expectHidden(await c.patch(`/regions/${code}`, body), await c.patch(`/regions/${missingCode}`, body), `${u} PATCH region ${code}`);
    assert.deepEqual(dbQuery(`SELECT * FROM regions WHERE code = ${sqlString(code)}`), rowBefore, 'region unchanged');
    assert.deepEqual(footprint(u), before);
    expectHidden(await c.get(`/regions/${code}`), await c.get(`/regions/${missingCode}`), `${u} GET region ${code}`);
  }
  const v1 = await as('village1');
  expectHidden(await v1.get(`/regions/${VILLAGE2}`), await v1.get('/regions/370725107999'), 'village1 GET region village2');
  expectHidden(await v1.get(`/regions?parent=${TOWN2}`), await v1.get('/regions?parent=370725999'), 'village1 lists 宝都街道');
});

test('GET /jobs/{id}: anyone but the owner (same county or not) → 404 like a missing id', async () => {
  for (const [u, c] of [['reviewer', await as('reviewer')], ['supervisor', await as('supervisor')], [S.zjAdmin.username, S.zjAdmin.client], ['village1', await as('village1')]]) {
    const res = await c.get(`/jobs/${S.job.id}`);
    expectHidden(res, await c.get('/jobs/00000000000000000000000000000000'), `${u} GET admin's job`);
    assert.ok(!res.text.includes('persons'), 'no job result');
  }
  expectStatus(await (await as('admin')).get(`/jobs/${S.job.id}`), 200, 'the owner');
});

test('PATCH /users/{id}: a user of another county → 404 like a missing id; the user unchanged', async () => {
  const c = S.zjAdmin.client;
  const rowBefore = row('users', S.user370.id);
  const before = footprint(S.zjAdmin.username);
  const body = { display_name: '越权改名', disabled: true, version: Number(rowBefore.version) };
  expectHidden(await c.patch(`/users/${S.user370.id}`, body), await c.patch(`/users/${MISSING}`, body), 'zj admin patches a 370725 user');
  assert.deepEqual(row('users', S.user370.id), rowBefore, 'user unchanged');
  assert.deepEqual(footprint(S.zjAdmin.username), before);
});

// ---------------------------------------------------------------- lists
/** A filtered list outside the scope: 404 not_found or an empty page, never a row. */
function expectNothing(res, what) {
  if (res.status === 200) {
    assert.equal(res.body.total, 0, `${what}: total ${res.body.total}`);
    assert.deepEqual(res.body.items, [], `${what}: items`);
  } else {
    expectError(res, 404, 'not_found');
  }
}

test('households and applications: a region filter outside the scope yields nothing; unfiltered lists stay inside', async () => {
  for (const [u, region] of [['village1', VILLAGE2], ['village1', VILLAGE3], ['village1', TOWN1], ['town_clerk', VILLAGE3], ['town_clerk', TOWN2], ['town2_clerk', VILLAGE2]]) {
    const c = await as(u);
    expectNothing(await c.get(`/households?region=${region}`), `${u} households?region=${region}`);
    expectNothing(await c.get(`/applications?village=${region}`), `${u} applications?village=${region}`);
  }
  for (const [u, prefix, foreign] of [['village1', VILLAGE1, [S.app2, S.app2b, S.app3]], ['town_clerk', TOWN1, [S.app3]], ['town2_clerk', TOWN2, [S.app2, S.app2b]]]) {
    const c = await as(u);
    const apps = await listAll(c, '/applications');
    for (const a of apps) assert.ok(a.village_code.startsWith(prefix), `${u} lists application ${a.id} of ${a.village_code}`);
    for (const a of foreign) {
      assert.ok(!apps.some(x => String(x.id) === String(a.id)), `${u} lists ${a.id}`);
      const q = expectStatus(await c.get(`/applications?q=${encodeURIComponent(a.case_no)}`), 200);
      assert.equal(q.total, 0, `${u} finds ${a.case_no}`);
    }
    const hs = await listAll(c, '/households');
    for (const h of hs) assert.ok(h.village_code.startsWith(prefix), `${u} lists household ${h.id} of ${h.village_code}`);
  }
  const t = await listAll(await as('town_clerk'), '/applications');
  assert.ok(t.some(x => String(x.id) === String(S.app2b.id)), 'control: the town lists its village2 case');
});

/** Ids of a list's items → their rows' region column, from the database. */
function regionsOf(table, ids, column = 'village_code') {
  if (ids.length === 0) return [];
  return dbQuery(`SELECT ${column} AS code FROM ${table} WHERE id IN (${ids.map(Number).join(',')})`).map(r => r.code);
}

const FOREIGN_FILTERS = `village=${VILLAGE3}&town=${TOWN2}&region=${VILLAGE3}&county=${ZJ}&town_code=${TOWN2}&village_code=${VILLAGE3}`;

test('enrollments, referrals and alerts: filters pointing elsewhere are no way out; unfiltered lists stay inside', async () => {
  for (const [u, prefix] of [['village1', VILLAGE1], ['village2', VILLAGE2], ['town_clerk', TOWN1], ['town2_clerk', TOWN2], ['village3', VILLAGE3]]) {
    const c = await as(u);
    for (const q of ['', `?${FOREIGN_FILTERS}`, `?village=${VILLAGE2}&town=${TOWN1}`]) {
      const enr = await listAll(c, `/enrollments${q}`);
      for (const code of regionsOf('enrollments', enr.map(e => e.id))) assert.ok(code.startsWith(prefix), `${u} /enrollments${q}: ${code}`);
      const refs = await listAll(c, `/referrals${q}`);
      for (const code of regionsOf('referrals', refs.map(r => r.id))) assert.ok(code.startsWith(prefix), `${u} /referrals${q}: ${code}`);
      const alerts = await listAll(c, `/alerts${q}`);
      for (const a of alerts) assert.ok(a.village_code.startsWith(prefix), `${u} /alerts${q}: alert ${a.id} of ${a.village_code}`);
      assert.equal(enr.some(e => Number(e.id) === Number(S.enr2.id)), VILLAGE2.startsWith(prefix), `${u}${q}: enrollment of village2`);
      assert.equal(enr.some(e => Number(e.id) === S.enr3), VILLAGE3.startsWith(prefix), `${u}${q}: enrollment of village3`);
      assert.equal(refs.some(r => Number(r.id) === Number(S.ref2.id)), VILLAGE2.startsWith(prefix), `${u}${q}: referral of village2`);
      for (const [id, code] of [[S.alert1, VILLAGE1], [S.alert2, VILLAGE2], [S.alert3, VILLAGE3]])
        assert.equal(alerts.some(a => Number(a.id) === id), code.startsWith(prefix), `${u}${q}: alert of ${code}`);
    }
  }
});

test('emergency aid, reserve funds, verification requests: lists stay inside the scope whatever the filter', async () => {
  for (const [u, town] of [['town_clerk', TOWN1], ['town2_clerk', TOWN2], ['village1', TOWN1], ['village3', TOWN2]]) {
    const c = await as(u);
    for (const q of ['', `?${FOREIGN_FILTERS}`, `?town=${TOWN1}&town_code=${TOWN1}`]) {
      const aid = await listAll(c, `/emergency-aid${q}`);
      for (const a of aid) assert.equal(a.town_code, town, `${u} /emergency-aid${q}: aid ${a.id} of ${a.town_code}`);
      assert.ok(!aid.some(a => String(a.id) === String((town === TOWN1 ? S.aid3 : S.aid1).id)), `${u}${q}: another town's aid`);
      if (u.endsWith('clerk')) assert.ok(aid.some(a => String(a.id) === String((town === TOWN1 ? S.aid1 : S.aid3).id)), `control: ${u} lists its aid`);
      const funds = expectStatus(await c.get(`/reserve-funds${q}`), 200);
      assert.deepEqual(funds.items.map(f => f.town_code), [town], `${u} /reserve-funds${q}`);
    }
  }
  for (const [u, town] of [['town_clerk', TOWN1], ['town2_clerk', TOWN2]]) {
    const reqs = await listAll(await as(u), `/verification-requests?${FOREIGN_FILTERS}`);
    const towns = reqs.length ? dbQuery(`SELECT a.town_code AS town FROM verification_requests v JOIN applications a ON a.id = v.application_id
      WHERE v.id IN (${reqs.map(r => Number(r.id)).join(',')})`).map(r => r.town) : [];
    for (const t of towns) assert.equal(t, town, `${u} /verification-requests lists a request of ${t}`);
    assert.equal(reqs.some(r => Number(r.id) === S.vr), town === TOWN1, `${u}: the 乔官镇 request`);
  }
  // village staff may not list requests at all (role)
  expectError(await (await as('village1')).get('/verification-requests'), 403, 'permission_denied');
});

test('county lists (credit, users, audit): nothing of another county', async () => {
  for (const [u, c, county, foreign, own] of [['admin', await as('admin'), COUNTY, S.creditZj, S.credit370],
    [S.zjAdmin.username, S.zjAdmin.client, ZJ, S.credit370, S.creditZj]]) {
    for (const q of ['', `?county=${county === ZJ ? COUNTY : ZJ}&region=${county === ZJ ? COUNTY : ZJ}`]) {
      const credit = await listAll(c, `/credit${q}`);
      for (const code of regionsOf('credit_entries', credit.map(e => e.id), 'county_code')) assert.equal(code, county, `${u} /credit${q}: ${code}`);
      assert.ok(!credit.some(e => Number(e.id) === Number(foreign.id)), `${u}: another county's entry`);
      assert.ok(credit.some(e => Number(e.id) === Number(own.id)), `${u}: control, its own entry`);
      const users = await listAll(c, `/users${q}`);
      for (const x of users) assert.ok(x.region_code.startsWith(county), `${u} /users${q}: ${x.username} of ${x.region_code}`);
    }
    assert.ok((await listAll(c, '/users')).some(x => x.username === (county === ZJ ? S.zjAdmin.username : 'admin')), `control: ${u} lists itself`);
    // the audit log: the credit entries of both counties were just written
    const audit = expectStatus(await c.get('/audit?entity=credit_entry&page_size=200'), 200);
    for (const e of audit.items) assert.ok(e.region_code.startsWith(county), `${u} /audit: entry ${e.id} of ${e.region_code}`);
    assert.ok(!audit.items.some(e => e.entity_id === String(foreign.id) && e.action === 'credit.add'), `${u} /audit: another county's credit.add`);
    assert.ok(audit.items.some(e => e.entity_id === String(own.id) && e.action === 'credit.add'), `control: ${u} /audit has its credit.add`);
  }
  // the read log: a read in 织金 just now is the newest entry; 370725 staff do not see it
  const zjVillage = dbQuery(`SELECT code FROM regions WHERE level = 'village' AND code LIKE '${S.zjTown}%' ORDER BY code LIMIT 1`)[0].code;
  const hz = await createHousehold(S.zjAdmin.client, zjVillage);
  expectStatus(await S.zjAdmin.client.get(`/households/${hz.id}`), 200);
  for (const [u, c, county] of [['admin', await as('admin'), COUNTY], ['auditor', await as('auditor'), COUNTY], [S.zjAdmin.username, S.zjAdmin.client, ZJ]]) {
    const reads = expectStatus(await c.get('/audit/reads?page_size=200'), 200);
    for (const e of reads.items) assert.ok(e.region_code.startsWith(county), `${u} /audit/reads: entry ${e.id} of ${e.region_code}`);
    assert.equal(reads.items.some(e => e.entity === 'household' && e.entity_id === String(hz.id)), county === ZJ, `${u}: the 织金 read`);
  }
  // and 370725 cannot read the 织金 household
  expectHidden(await (await as('admin')).get(`/households/${hz.id}`), await (await as('admin')).get(`/households/${MISSING}`), 'admin reads a 织金 household');
});

test('GET /screening: a village outside the scope is refused (no rows); unfiltered lists stay inside', async () => {
  for (const [u, prefix, foreign] of [['village1', VILLAGE1, [VILLAGE2, VILLAGE3]], ['town_clerk', TOWN1, [VILLAGE3]], ['town2_clerk', TOWN2, [VILLAGE1, VILLAGE2]]]) {
    const c = await as(u);
    for (const v of foreign) {
      const res = await c.get(`/screening?month=${THIS_MONTH}&village=${v}&page_size=200`);
      // 404 as every list answers a region outside the scope: no rows, and the same answer as
      // for a village that does not exist.
      expectError(res, 404, 'not_found');
      const nowhere = await c.get(`/screening?month=${THIS_MONTH}&village=${v.slice(0, 9)}999&page_size=200`);
      assert.equal(res.status, nowhere.status, `${u}: a foreign village answers like a nonexistent one`);
      assert.deepEqual(res.body, nowhere.body);
    }
    const page = expectStatus(await c.get(`/screening?month=${THIS_MONTH}&page_size=200&town=${TOWN2}&region=${VILLAGE3}`), 200);
    for (const i of page.items) assert.ok(i.village_code.startsWith(prefix), `${u} /screening: ${i.household_id} of ${i.village_code}`);
  }
  // control: the town's list has the village2 household whose review falls due this month
  const town = expectStatus(await (await as('town_clerk')).get(`/screening?month=${THIS_MONTH}&village=${VILLAGE2}&page_size=200`), 200);
  assert.ok(town.items.some(i => Number(i.household_id) === Number(S.h2case.id)), 'the town lists the village2 household');
});

test('GET /screening/export: a village\'s list and notice carry nobody of another village or town', async () => {
  const h2name = head(S.h2case).name;
  const h3name = head(S.h3).name;
  for (const kind of ['list', 'notice']) {
    const own = await exportText(await as('town_clerk'), kind);
    assert.equal(own.status, 200);
    assert.ok(own.text.includes(h2name), `control: the town's ${kind} names the village2 household`);
    assert.ok(!own.text.includes(h3name), `town_clerk ${kind} names a 宝都 household`);
    const v1 = await exportText(await as('village1'), kind);
    assert.equal(v1.status, 200);
    assert.ok(!v1.text.includes(h2name), `village1 ${kind} names a village2 household`);
    assert.ok(!v1.text.includes(h3name), `village1 ${kind} names a 宝都 household`);
    const t2 = await exportText(await as('town2_clerk'), kind);
    assert.ok(!t2.text.includes(h2name), `town2_clerk ${kind} names a 乔官镇 household`);
  }
});

test('GET /monitor/rectification: counts only the alerts of the scope', async () => {
  const m = S.alertMonth;
  const get = async (u, q = '') => expectStatus(await (await as(u)).get(`/monitor/rectification?month=${m}${q}`), 200).items;
  const found = (items, town) => items.filter(i => i.town_code === town).reduce((n, i) => n + i.missing.found, 0);
  const v1 = await get('village1', `&town=${TOWN2}&village=${VILLAGE2}`);
  assert.deepEqual(v1.map(i => i.town_code), [TOWN1], 'village1: its town only');
  assert.equal(found(v1, TOWN1), 1, 'village1 counts its own alert only');
  const tc = await get('town_clerk', `&town=${TOWN2}`);
  assert.deepEqual(tc.map(i => i.town_code), [TOWN1]);
  assert.equal(found(tc, TOWN1), 2, 'the town counts both of its villages');
  const t2 = await get('town2_clerk', `&town=${TOWN1}`);
  assert.deepEqual(t2.map(i => i.town_code), [TOWN2]);
  assert.equal(found(t2, TOWN2), 1);
  const zj = expectStatus(await S.zjAdmin.client.get(`/monitor/rectification?month=${m}`), 200).items;
  assert.deepEqual(zj, [], 'another county counts none of them');
});

test('GET /monitor/indicators: a catalogue without region or personal data (nothing to scope)', async () => {
  // The indicator definitions are the same for everyone; the route takes no filter. Checked only
  // to be sure that no region filter turns it into a list of people.
  const a = expectStatus(await (await as('village1')).get(`/monitor/indicators?${FOREIGN_FILTERS}`), 200);
  const b = expectStatus(await (await as('town2_clerk')).get('/monitor/indicators'), 200);
  assert.deepEqual(a, b);
  for (const i of a.items) assert.deepEqual(Object.keys(i).sort(), ['category', 'cite', 'deadline_working_days', 'description', 'id', 'severity']);
});

// Who may act on a case (issue 4, docs/workflow.md table "who"): region checks (404 outside the
// user's region, exactly like a missing case), role checks (403) on every step, the order between
// levels, delegation to the town reviewer, escalation (提级审核) and relatives of staff (备案).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, chineseName, wrongCheck, dbCount, sqlString, listAll,
  appRow, caseFootprint, getApp, wfPayload, act, actOk, actRefused, newCase, ageNotice, driveTo, dibaoMembers,
} from './lib.mjs';

const OUTSIDE = ['village2', 'village3', 'town2_clerk']; // another village of the town, another town's village and clerk
const READ_ONLY = ['supervisor', 'auditor', 'liaison'];

/** Users outside the case's region get the same 404 as for a missing case; nothing changes. */
async function outsideGet404(id, action, payload) {
  for (const u of OUTSIDE) {
    const c = await as(u);
    const missing = await act(c, 987654321, action, payload, 1);
    expectError(missing, 404, 'not_found');
    const before = caseFootprint(id);
    const res = await act(c, id, action, payload, before.row.version);
    expectError(res, 404, 'not_found');
    assert.deepEqual(res.body, missing.body, `${u} ${action}: same answer as a missing case`);
    assert.deepEqual(caseFootprint(id), before, `${u} ${action} must change nothing`);
    const get = await c.get(`/applications/${id}`);
    expectError(get, 404, 'not_found');
    assert.deepEqual(get.body, (await c.get('/applications/987654321')).body);
  }
}

/** Users whose role may not perform the action → 403 permission_denied, nothing changes. */
async function denied403(id, action, payload, users) {
  for (const u of users) await actRefused(await as(u), id, action, payload, 403, 'permission_denied');
}

let R; // the case walked step by step

test('received: accept — outside the region 404; village assistant, county staff and read-only roles 403; the town reviewer accepts', async () => {
  R = await newCase();
  const id = R.app.id;
  await outsideGet404(id, 'accept', {});
  await denied403(id, 'accept', {}, ['village1', 'reviewer', 'admin', ...READ_ONLY]);
  await denied403(id, 'request_documents', wfPayload('request_documents'), ['village1', 'reviewer', ...READ_ONLY]);
  await denied403(id, 'withdraw', wfPayload('withdraw'), ['village1', 'reviewer', ...READ_ONLY]);
  await outsideGet404(id, 'withdraw', wfPayload('withdraw'));
  // village1 does not see accept among its allowed actions
  const seen = await getApp(id, await as('village1'));
  assert.ok(!seen.allowed_actions.includes('accept'));
  // supervisor reads, but may not act
  const sup = await getApp(id, await as('supervisor'));
  assert.deepEqual(sup.allowed_actions, []);
  await actOk(await as('town_reviewer'), id, 'accept', {}, 'accepted');
});

test('accepted: record_visit — outside 404; read-only roles 403; extend needs a reviewer; the village assistant visits', async () => {
  const id = R.app.id;
  await outsideGet404(id, 'record_visit', wfPayload('record_visit'));
  await denied403(id, 'record_visit', wfPayload('record_visit'), READ_ONLY);
  await denied403(id, 'extend', wfPayload('extend'), ['town_clerk', 'village1', ...READ_ONLY]);
  await actOk(await as('village1'), id, 'record_visit', wfPayload('record_visit'), 'visited');
});

test('visited: record_verification — outside 404; village assistant and read-only roles 403; the county reviewer may verify', async () => {
  const id = R.app.id;
  await outsideGet404(id, 'record_verification', wfPayload('record_verification'));
  await denied403(id, 'record_verification', wfPayload('record_verification'), ['village1', ...READ_ONLY]);
  await actOk(await as('reviewer'), id, 'record_verification', wfPayload('record_verification'), 'verified');
});

test('verified: town_opinion only by the town reviewer; the county cannot decide before the town opinion (409)', async () => {
  const id = R.app.id;
  await outsideGet404(id, 'town_opinion', wfPayload('town_opinion'));
  await denied403(id, 'town_opinion', wfPayload('town_opinion'), ['town_clerk', 'village1', 'reviewer', 'admin', ...READ_ONLY]);
  // order between levels: approve is only allowed from awaiting_decision
  for (const u of ['reviewer', 'admin', 'town_reviewer']) {
    await actRefused(await as(u), id, 'approve', wfPayload('approve'), 409, 'invalid_transition');
    await actRefused(await as(u), id, 'refuse', wfPayload('refuse'), 409, 'invalid_transition');
  }
  await actOk(await as('town_reviewer'), id, 'town_opinion', wfPayload('town_opinion'), 'public_notice');
});

test('public_notice: objections by town and village (not county or read-only); close_notice only by the town', async () => {
  const id = R.app.id;
  await outsideGet404(id, 'record_objection', wfPayload('record_objection'));
  await denied403(id, 'record_objection', wfPayload('record_objection'), ['reviewer', ...READ_ONLY]);
  await actOk(await as('village1'), id, 'record_objection', wfPayload('record_objection'), 'public_notice');
  const objectionId = (await getApp(id)).objections[0].id;
  const answer = { objection_id: objectionId, answer: '已核实。' };
  await outsideGet404(id, 'answer_objection', answer);
  await denied403(id, 'answer_objection', answer, ['reviewer', ...READ_ONLY]);
  await actOk(await as('town_clerk'), id, 'answer_objection', answer, 'public_notice');
  ageNotice(id);
  await outsideGet404(id, 'close_notice', {});
  await denied403(id, 'close_notice', {}, ['village1', 'reviewer', 'admin', ...READ_ONLY]);
  await actOk(await as('town_reviewer'), id, 'close_notice', {}, 'awaiting_decision');
});

test('public_notice: the village assistant may answer an objection (docs/workflow.md: record_objection, answer_objection — town_clerk, town_reviewer, village_assistant)', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'public_notice');
  await actOk(await as('village1'), app.id, 'record_objection', wfPayload('record_objection'), 'public_notice');
  const objectionId = (await getApp(app.id)).objections[0].id;
  await actOk(await as('village1'), app.id, 'answer_objection', { objection_id: objectionId, answer: '村协理员已入户核实。' }, 'public_notice');
  assert.equal((await getApp(app.id)).objections[0].answered_by, 'village1');
});

test('awaiting_decision: approve — outside 404; town clerk, village and read-only roles 403; with delegation the town reviewer approves', async () => {
  const id = R.app.id;
  await outsideGet404(id, 'approve', wfPayload('approve'));
  await outsideGet404(id, 'refuse', wfPayload('refuse'));
  await denied403(id, 'approve', wfPayload('approve'), ['town_clerk', 'village1', ...READ_ONLY]);
  await denied403(id, 'refuse', wfPayload('refuse'), ['town_clerk', 'village1', ...READ_ONLY]);
  const tr = await getApp(id, await as('town_reviewer'));
  assert.equal(tr.delegated, true);
  assert.ok(tr.allowed_actions.includes('approve') && tr.allowed_actions.includes('refuse'), JSON.stringify(tr.allowed_actions));
  await actOk(await as('town_reviewer'), id, 'approve', wfPayload('approve'), 'enrolled');
});

test('lists are region-scoped: the case is not listed for another village or town', async () => {
  for (const u of ['village2', 'town2_clerk']) {
    const items = await listAll(await as(u), `/applications?q=${encodeURIComponent(R.app.case_no)}`);
    assert.equal(items.length, 0, `${u} must not list the case`);
  }
  const own = await listAll(await as('village1'), `/applications?q=${encodeURIComponent(R.app.case_no)}`);
  assert.deepEqual(own.map(i => String(i.id)), [String(R.app.id)]);
});

test('an escalated case (提级审核) cannot be decided by the town reviewer (403) but by the county reviewer', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'verified');
  const op = await actOk(await as('town_reviewer'), app.id, 'town_opinion',
    { recommend: 'approve', opinion: '情况复杂，提请县级审核。', escalate: true }, 'public_notice');
  assert.equal(op.escalated, true);
  await driveTo(app.id, 'awaiting_decision');
  const seen = await getApp(app.id, await as('town_reviewer'));
  await actRefused(await as('town_reviewer'), app.id, 'approve', wfPayload('approve'), 403, 'permission_denied');
  await actRefused(await as('town_reviewer'), app.id, 'refuse', wfPayload('refuse'), 403, 'permission_denied');
  await actOk(await as('reviewer'), app.id, 'approve', wfPayload('approve'), 'enrolled');
  // allowed_actions is "what this user may do now"
  assert.ok(!seen.allowed_actions.includes('approve') && !seen.allowed_actions.includes('refuse'),
    `allowed_actions of the town reviewer on an escalated case: ${JSON.stringify(seen.allowed_actions)}`);
});

test('an escalated case recommended for refusal: the town reviewer 403, the county admin decides', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'verified');
  await actOk(await as('town_reviewer'), app.id, 'town_opinion',
    { recommend: 'refuse', opinion: '疑难案例，提级审核。', escalate: true }, 'awaiting_decision');
  assert.equal(appRow(app.id).state, 'awaiting_decision');
  await actRefused(await as('town_reviewer'), app.id, 'approve', wfPayload('approve'), 403, 'permission_denied');
  await actOk(await as('admin'), app.id, 'approve', wfPayload('approve'), 'enrolled');
});

test('the town reviewer may refuse a delegated, non-escalated case', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'awaiting_decision', { recommend: 'refuse' });
  await actOk(await as('town_reviewer'), app.id, 'refuse', wfPayload('refuse'), 'refused');
});

test('relatives of staff: registration is for the county; flagged case needs a county home visit and a county decision', async () => {
  const members = dibaoMembers();
  const relative = members[1];
  const entry = { citizen_id: relative.citizen_id, name: relative.name, staff_name: chineseName(), relation: '配偶' };
  const before = dbCount('staff_relatives', `citizen_id = ${sqlString(relative.citizen_id)}`);
  assert.equal(before, 0);
  for (const u of ['town_clerk', 'town_reviewer', 'village1', 'supervisor']) {
    expectError(await (await as(u)).post('/staff-relatives', entry), 403, 'permission_denied');
  }
  expectError(await (await as('admin')).post('/staff-relatives', { ...entry, citizen_id: wrongCheck(relative.citizen_id) }), 400, 'invalid_argument', 'citizen_id');
  assert.equal(dbCount('staff_relatives', `citizen_id = ${sqlString(relative.citizen_id)}`), 0, 'refused registrations write nothing');
  const created = expectStatus(await (await as('admin')).post('/staff-relatives', entry), 201, 'register relative');
  assert.equal(created.citizen_id, relative.citizen_id);
  assert.equal(created.staff_name, entry.staff_name);
  const listed = await listAll(await as('reviewer'), '/staff-relatives');
  assert.ok(listed.some(r => r.citizen_id === relative.citizen_id), 'listed');

  const { app } = await newCase({ members });
  assert.equal(app.staff_relative, true, 'the application is flagged');
  const id = app.id;
  await actOk(await as('town_clerk'), id, 'accept', {}, 'accepted');
  const v = await getApp(id, await as('village1'));
  await denied403(id, 'record_visit', wfPayload('record_visit'), ['village1', 'town_clerk', 'town_reviewer']);
  await actOk(await as('reviewer'), id, 'record_visit', wfPayload('record_visit'), 'visited');
  await actOk(await as('town_clerk'), id, 'record_verification', wfPayload('record_verification'), 'verified');
  await actOk(await as('town_reviewer'), id, 'town_opinion', wfPayload('town_opinion'), 'public_notice');
  ageNotice(id);
  await actOk(await as('town_clerk'), id, 'close_notice', {}, 'awaiting_decision');
  const tr = await getApp(id, await as('town_reviewer'));
  await actRefused(await as('town_reviewer'), id, 'approve', wfPayload('approve'), 403, 'permission_denied');
  await actRefused(await as('town_reviewer'), id, 'refuse', wfPayload('refuse'), 403, 'permission_denied');
  await actOk(await as('reviewer'), id, 'approve', wfPayload('approve'), 'enrolled');
  // allowed_actions is "what this user may do now"
  assert.ok(!v.allowed_actions.includes('record_visit'), `village1 may not visit a relative of staff: ${JSON.stringify(v.allowed_actions)}`);
  assert.ok(!tr.allowed_actions.includes('approve'), `the town never confirms a relative of staff: ${JSON.stringify(tr.allowed_actions)}`);
});

test('relatives of staff: a relative recorded after the application was made flags the open case (county visit from then on)', async () => {
  const members = dibaoMembers();
  const { app } = await newCase({ members });
  assert.equal(app.staff_relative, false, 'not a relative when applying');
  await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
  const relative = members[1];
  const created = expectStatus(await (await as('admin')).post('/staff-relatives',
    { citizen_id: relative.citizen_id, name: relative.name, staff_name: chineseName(), relation: '子女' }), 201);
  assert.equal(created.applications_flagged, 1, JSON.stringify(created));
  const after = await getApp(app.id, await as('reviewer'));
  assert.equal(after.staff_relative, true, 'flagged once recorded');
  await denied403(app.id, 'record_visit', wfPayload('record_visit'), ['village1', 'town_clerk']);
  await actOk(await as('reviewer'), app.id, 'record_visit', wfPayload('record_visit'), 'visited');
});

test('a household that is not a relative of staff is not flagged', async () => {
  const { app } = await newCase();
  assert.equal(app.staff_relative, false);
  assert.equal(Number(appRow(app.id).staff_relative), 0);
});

test('the relatives register is not visible to town or village staff', async () => {
  for (const u of ['town_clerk', 'village1']) {
    expectError(await (await as(u)).get('/staff-relatives'), 403, 'permission_denied');
  }
  expectStatus(await (await as('admin')).get('/staff-relatives'), 200);
});

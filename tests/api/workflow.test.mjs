// The application state machine (issue 4, docs/workflow.md "States and transitions"):
// every allowed transition along the happy path and every forbidden one from each state
// (409 invalid_transition, case unchanged), the notice-period and objection preconditions,
// enrollment after approval, the timeline from the audit chain, CSRF on the action endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, maskId, ISO_TS, VILLAGE1, TOWN1, todayShanghai, dbQuery, dbCount, T,
  WF_STATES, WF_ACTIONS, WF_ALLOWED, WF_ACTOR, expectCaseError, appRow, caseFootprint, getApp, wfPayload, act,
  actOk, actRefused, newCase, ageNotice, driveTo, dibaoMembers, listAll, createHousehold, withInsertRefused,
} from './lib.mjs';

const PROGRAMS = ['dibao', 'tekun', 'temporary', 'marginal', 'illness_poverty'];
// What a town clerk may do (docs/workflow.md table), to check `allowed_actions`.
const CLERK_ACTIONS = ['link_household', 'record_signatures', 'request_documents', 'accept', 'record_visit', 'record_verification',
  'record_objection', 'answer_objection', 'close_notice', 'withdraw'];

function addDays(d, n) { return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10); }
function monthAfter(date) {
  const [y, m] = date.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** Every action the table does not allow from `state` → 409 invalid_transition, nothing changed. */
async function forbiddenFrom(id, state, ctx = {}) {
  assert.equal(appRow(id).state, state, 'precondition: case state');
  const tried = [];
  for (const action of WF_ACTIONS) {
    if (WF_ALLOWED[state].includes(action)) continue;
    const c = await as(WF_ACTOR[action]);
    await actRefused(c, id, action, wfPayload(action, ctx), 409, 'invalid_transition');
    tried.push(action);
  }
  assert.equal(tried.length, WF_ACTIONS.length - WF_ALLOWED[state].length);
  assert.equal(appRow(id).state, state);
}

/** allowed_actions of the town clerk = (allowed from the state) ∩ (the clerk's actions). */
async function checkAllowedActions(id, state) {
  const app = await getApp(id, await as('town_clerk'));
  const expected = WF_ALLOWED[state].filter(a => CLERK_ACTIONS.includes(a)).sort();
  assert.deepEqual([...app.allowed_actions].sort(), expected, `allowed_actions of town_clerk in ${state}`);
}

let A; // the happy-path case: {household, app, objectionId}

test('create: POST /applications → 201 received, 五合一 by default, channel window, masked applicant id', async () => {
  const clerk = await as('town_clerk');
  const { household, app } = await newCase();
  const head = household.members.find(m => m.relation === 'head');
  assert.equal(typeof app.case_no, 'string');
  assert.ok(app.case_no.length > 0);
  assert.equal(app.state, 'received');
  assert.equal(app.channel, 'window');
  assert.deepEqual([...app.programs].sort(), [...PROGRAMS].sort());
  assert.equal(String(app.household_id), String(household.id));
  assert.equal(app.village_code, VILLAGE1);
  assert.match(app.village_name, /乔南/);
  assert.equal(app.town_name, '乔官镇');
  assert.equal(app.applicant_name, head.name);
  assert.equal(app.applicant_citizen_id_masked, maskId(head.citizen_id));
  assert.equal(app.staff_relative, false);
  assert.equal(app.escalated, false);
  assert.equal(app.delegated, true, '370725 delegates confirmation to the towns');
  assert.match(app.received_at, ISO_TS);
  assert.equal(app.accepted_at, null);
  assert.equal(app.due_date, null);
  assert.equal(app.decided_at, null);
  assert.equal(app.created_by, 'town_clerk');
  assert.equal(typeof app.version, 'number');
  // in the database, with its audit entry
  const row = appRow(app.id);
  assert.equal(row.state, 'received');
  assert.equal(row.case_no, app.case_no);
  assert.equal(dbCount(T.audit, `entity = 'application' AND entity_id = '${app.id}'`), 1);
  // the list finds it by case number and by applicant name
  const byNo = expectStatus(await clerk.get(`/applications?q=${encodeURIComponent(app.case_no)}`), 200);
  assert.deepEqual(byNo.items.map(i => String(i.id)), [String(app.id)]);
  const byName = expectStatus(await clerk.get(`/applications?q=${encodeURIComponent(head.name)}&page_size=200`), 200);
  assert.ok(byName.items.some(i => String(i.id) === String(app.id)));
  assert.ok(!JSON.stringify(byName).includes(head.citizen_id), 'the list must not carry the full id');
  A = { household, app };
});

test('create: a village assistant files on the applicant\'s behalf (channel assistant); bad input → 400, nothing written', async () => {
  const v1 = await as('village1');
  const { app } = await newCase({ by: 'village1', programs: ['dibao', 'temporary'] });
  assert.equal(app.channel, 'assistant');
  assert.deepEqual([...app.programs].sort(), ['dibao', 'temporary']);
  assert.equal(app.created_by, 'village1');
  const h = await createHousehold(await as('village1'), VILLAGE1, dibaoMembers());
  const other = await createHousehold(await as('village2'), '370725107206', dibaoMembers());
  const before = dbCount('applications');
  const base = { household_id: h.id, authorization: true, commitment: true };
  expectError(await v1.post('/applications', { ...base, authorization: false }), 400, 'invalid_argument', 'authorization');
  expectError(await v1.post('/applications', { ...base, commitment: undefined }), 400, 'invalid_argument', 'commitment');
  expectError(await v1.post('/applications', { ...base, programs: ['dibao', 'lottery'] }), 400, 'invalid_argument', 'programs[1]');
  expectError(await v1.post('/applications', { ...base, channel: 'pigeon' }), 400, 'invalid_argument', 'channel');
  expectError(await v1.post('/applications', { ...base, household_id: 987654321 }), 404, 'not_found');
  // a household of another village is out of village1's scope
  expectError(await v1.post('/applications', { ...base, household_id: other.id }), 404, 'not_found');
  for (const who of ['supervisor', 'auditor', 'liaison', 'reviewer']) {
    expectError(await (await as(who)).post('/applications', base), 403, 'permission_denied');
  }
  assert.equal(dbCount('applications'), before, 'refused creations write nothing');
});

test('received: every action but link_household/record_signatures/request_documents/accept/withdraw → 409 invalid_transition, nothing changed', async () => {
  await checkAllowedActions(A.app.id, 'received');
  await forbiddenFrom(A.app.id, 'received', { household_id: A.household.id });
});

test('received → accepted (accept): accepted_at, due_date and the acceptance notice', async () => {
  const app = await actOk(await as('town_clerk'), A.app.id, 'accept', {}, 'accepted');
  assert.match(app.accepted_at, ISO_TS);
  assert.match(app.due_date, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(app.accepted_at.slice(0, 10), todayShanghai());
  const full = await getApp(A.app.id);
  assert.ok(full.notices.some(n => n.kind === 'acceptance'), `acceptance notice: ${JSON.stringify(full.notices)}`);
  await checkAllowedActions(A.app.id, 'accepted');
  await forbiddenFrom(A.app.id, 'accepted', { household_id: A.household.id });
});

test('accepted → visited (record_visit by the village assistant, ≥ 2 staff required)', async () => {
  const v1 = await as('village1');
  await actRefused(v1, A.app.id, 'record_visit', { ...wfPayload('record_visit'), staff: ['王某'] }, 400, 'invalid_argument', 'staff');
  await actRefused(v1, A.app.id, 'record_visit', { ...wfPayload('record_visit'), staff: [] }, 400, 'invalid_argument', 'staff');
  const payload = { visited_on: todayShanghai(), staff: ['王调查', '李调查'], findings: '房屋两间，家中无劳动力。' };
  await actOk(v1, A.app.id, 'record_visit', payload, 'visited');
  A.visit = payload;
  await checkAllowedActions(A.app.id, 'visited');
  await forbiddenFrom(A.app.id, 'visited', { household_id: A.household.id });
});

test('GET /applications/{id} lists the recorded home visit in `visits` (docs/api.md)', async () => {
  const full = await getApp(A.app.id);
  assert.ok(Array.isArray(full.visits), `visits must be a list: visits=${JSON.stringify(full.visits)} visit=${JSON.stringify(full.visit)}`);
  assert.equal(full.visits.length, 1);
  assert.deepEqual(full.visits[0].staff, A.visit.staff);
  assert.equal(full.visits[0].findings, A.visit.findings);
  assert.equal(full.visits[0].visited_on, A.visit.visited_on);
});

test('visited → verified (record_verification): the policy engine\'s determinations are stored', async () => {
  await actOk(await as('town_clerk'), A.app.id, 'record_verification', wfPayload('record_verification'), 'verified');
  const full = await getApp(A.app.id);
  assert.ok(full.verification, 'verification recorded');
  assert.ok(full.determinations && full.determinations.dibao, 'determinations recorded');
  assert.equal(full.determinations.dibao.eligible, true, 'the no-income household qualifies for dibao');
  assert.ok(full.determinations.dibao.monthly_fen > 0);
  // the same as the engine says for the registered household now
  const det = expectStatus(await (await as('town_clerk')).get(`/households/${A.household.id}/determinations`), 200);
  assert.equal(full.determinations.dibao.monthly_fen, det.dibao.monthly_fen);
  assert.deepEqual(full.determinations.dibao.covered, det.dibao.covered);
  await checkAllowedActions(A.app.id, 'verified');
  await forbiddenFrom(A.app.id, 'verified', { household_id: A.household.id });
});

test('verified → public_notice (town_opinion approve by the town reviewer): a 7-day notice starts', async () => {
  await actOk(await as('town_reviewer'), A.app.id, 'town_opinion', { recommend: 'approve', opinion: '符合低保条件。', escalate: false }, 'public_notice');
  const row = appRow(A.app.id);
  const today = todayShanghai();
  assert.equal(String(row.notice_starts).slice(0, 10), today);
  const ends = String(row.notice_ends).slice(0, 10);
  assert.ok(ends >= addDays(today, 6) && ends <= addDays(today, 7), `notice_ends ${ends}: 7 days from ${today}`);
  await checkAllowedActions(A.app.id, 'public_notice');
  await forbiddenFrom(A.app.id, 'public_notice', { household_id: A.household.id });
});

test('public_notice: record_objection / answer_objection stay in public_notice; close_notice refused before the end and with an open objection', async () => {
  const v1 = await as('village1');
  const clerk = await as('town_clerk');
  await actOk(v1, A.app.id, 'record_objection', { content: '反映其子在外打工有收入。', by: '村民甲' }, 'public_notice');
  let full = await getApp(A.app.id);
  assert.equal(full.objections.length, 1);
  const obj = full.objections[0];
  assert.equal(obj.content, '反映其子在外打工有收入。');
  assert.equal(obj.by, '村民甲');
  assert.equal(obj.answer, null);
  A.objectionId = obj.id;
  // notice period not over → failed_precondition, nothing changed
  await actRefused(clerk, A.app.id, 'close_notice', {}, 409, 'failed_precondition');
  // the 7 days are over, but an objection is unanswered → still refused
  ageNotice(A.app.id);
  await actRefused(clerk, A.app.id, 'close_notice', {}, 409, 'failed_precondition');
  // answering needs the answer text
  await actRefused(clerk, A.app.id, 'answer_objection', { objection_id: obj.id, answer: '' }, 400, 'invalid_argument', 'answer');
  await actOk(await as('town_reviewer'), A.app.id, 'answer_objection',
    { objection_id: obj.id, answer: '经核实，其子已另立户且收入微薄。' }, 'public_notice');
  full = await getApp(A.app.id);
  assert.equal(full.objections[0].answer, '经核实，其子已另立户且收入微薄。');
  assert.equal(full.objections[0].answered_by, 'town_reviewer');
  await forbiddenFrom(A.app.id, 'public_notice', { household_id: A.household.id, objection_id: obj.id });
});

test('public_notice → awaiting_decision (close_notice once the period is over and objections answered)', async () => {
  await actOk(await as('town_clerk'), A.app.id, 'close_notice', {}, 'awaiting_decision');
  await checkAllowedActions(A.app.id, 'awaiting_decision');
  await forbiddenFrom(A.app.id, 'awaiting_decision', { household_id: A.household.id, objection_id: A.objectionId });
});

test('a stale version → 409 version_conflict, nothing changed', async () => {
  const reviewer = await as('reviewer');
  const before = caseFootprint(A.app.id);
  const res = await act(reviewer, A.app.id, 'approve', wfPayload('approve'), before.row.version - 1);
  expectError(res, 409, 'version_conflict');
  assert.deepEqual(caseFootprint(A.app.id), before);
});

test('awaiting_decision → enrolled (approve): enrollments from the recorded determinations, first paid month = the month after approval', async () => {
  const app = await actOk(await as('reviewer'), A.app.id, 'approve', { opinion: '同意纳入低保。' }, 'enrolled');
  assert.match(app.decided_at, ISO_TS);
  assert.ok(app.decision, 'decision recorded');
  assert.equal(app.due_status === 'overdue' || app.due_status === 'due_soon', false, 'a decided case is not due');
  const full = await getApp(A.app.id);
  const det = full.determinations;
  const month = monthAfter(app.decided_at.slice(0, 10));
  assert.ok(full.enrollments.length >= 1, 'at least one enrollment');
  const programs = full.enrollments.map(e => e.program);
  assert.ok(programs.includes('dibao'), `dibao enrollment: ${JSON.stringify(full.enrollments)}`);
  for (const e of full.enrollments) {
    assert.ok(full.programs.includes(e.program), `${e.program} was applied for`);
    assert.equal(det[e.program].eligible, true, `${e.program} eligible at verification`);
    assert.equal(e.monthly_fen, det[e.program].monthly_fen, `${e.program} monthly amount = determination`);
    assert.deepEqual([...e.covered].sort(), [...det[e.program].covered].sort(), `${e.program} covered members`);
    assert.equal(e.first_paid_month, month, 'first paid month');
  }
  assert.equal(new Set(programs).size, programs.length, 'one enrollment per programme');
  // the enrollments list agrees, and the database has the rows
  const list = await listAll(await as('town_clerk'), '/enrollments');
  const mine = list.filter(e => String(e.application_id) === String(A.app.id));
  assert.equal(mine.length, full.enrollments.length);
  for (const e of mine) {
    const d = det[e.program];
    assert.equal(String(e.household_id), String(A.household.id));
    assert.equal(e.monthly_fen, d.monthly_fen);
    assert.deepEqual([...e.covered].sort(), [...d.covered].sort());
    assert.equal(e.first_paid_month, month);
    assert.equal(typeof e.status, 'string');
    assert.match(e.village_name, /乔南/);
    assert.equal(e.head_name, A.household.members.find(m => m.relation === 'head').name);
  }
  const rows = dbQuery(`SELECT program, monthly_fen, first_paid_month FROM enrollments WHERE application_id = ${Number(A.app.id)}`);
  assert.equal(rows.length, full.enrollments.length);
  const dib = rows.find(r => r.program === 'dibao');
  assert.equal(Number(dib.monthly_fen), det.dibao.monthly_fen);
  assert.equal(dib.first_paid_month, month);
  // an approval notice
  assert.ok(full.notices.some(n => n.kind === 'approval'), `approval notice: ${JSON.stringify(full.notices)}`);
  // a household of village2 does not see these enrollments
  const v2list = await listAll(await as('village2'), '/enrollments');
  assert.ok(!v2list.some(e => String(e.application_id) === String(A.app.id)), 'enrollments are region-scoped');
});

test('enrolled is final: every action → 409 invalid_transition, nothing changed', async () => {
  await checkAllowedActions(A.app.id, 'enrolled');
  await forbiddenFrom(A.app.id, 'enrolled', { household_id: A.household.id, objection_id: A.objectionId });
});

test('timeline: every step in order with actor and from/to states; refused attempts leave no trace', async () => {
  const c = await as('town_clerk');
  const tl = expectStatus(await c.get(`/applications/${A.app.id}/timeline`), 200, 'timeline');
  const got = tl.items.map(i => [i.action, i.actor, i.from, i.to]);
  assert.deepEqual(got, [
    ['submit', 'town_clerk', '', 'received'],
    ['accept', 'town_clerk', 'received', 'accepted'],
    ['record_visit', 'village1', 'accepted', 'visited'],
    ['record_verification', 'town_clerk', 'visited', 'verified'],
    ['town_opinion', 'town_reviewer', 'verified', 'public_notice'],
    ['record_objection', 'village1', 'public_notice', 'public_notice'],
    ['answer_objection', 'town_reviewer', 'public_notice', 'public_notice'],
    ['close_notice', 'town_clerk', 'public_notice', 'awaiting_decision'],
    ['approve', 'reviewer', 'awaiting_decision', 'enrolled'],
  ]);
  // Each step reads with what it recorded: findings, opinions, the objection and its answer.
  const note = (action) => tl.items.find(i => i.action === action)?.note;
  assert.equal(note('record_visit'), '房屋两间，家中无劳动力。');
  assert.equal(note('town_opinion'), '建议批准：符合低保条件。');
  assert.equal(note('record_objection'), '反映其子在外打工有收入。');
  assert.equal(note('answer_objection'), '经核实，其子已另立户且收入微薄。');
  assert.equal(note('approve'), '同意纳入低保。');
  assert.match(note('accept'), /^办理时限 \d+ 个工作日，截止 \d{4}-\d{2}-\d{2}$/);
  let prev = '';
  for (const i of tl.items) {
    assert.match(i.at, ISO_TS);
    assert.ok(i.at >= prev, 'timeline in order');
    prev = i.at;
    assert.ok(i.id !== undefined);
  }
  // the ids are increasing (audit chain order)
  const ids = tl.items.map(i => Number(i.id));
  assert.deepEqual([...ids].sort((a, b) => a - b), ids);
  // out of scope → 404
  expectError(await (await as('village2')).get(`/applications/${A.app.id}/timeline`), 404, 'not_found');
  expectError(await (await as('town2_clerk')).get(`/applications/${A.app.id}/timeline`), 404, 'not_found');
});

test('received → documents_requested (one notice listing everything missing) → accepted → withdrawn', async () => {
  const { household, app } = await newCase();
  const clerk = await as('town_clerk');
  await actRefused(clerk, app.id, 'request_documents', { missing_items: [] }, 400, 'invalid_argument', 'missing_items');
  const missing = ['户口簿复印件', '重病诊断证明'];
  const got = await actOk(clerk, app.id, 'request_documents', { missing_items: missing }, 'documents_requested');
  assert.deepEqual(got.missing_items, missing);
  const full = await getApp(app.id);
  assert.equal(full.notices.length, 1, 'one notice');
  const notice = expectStatus(await clerk.get(`/notices/${full.notices[0].id}`), 200);
  assert.match(notice.html, /一次性告知/);
  for (const m of missing) assert.ok(notice.html.includes(m), `notice lists ${m}`);
  await checkAllowedActions(app.id, 'documents_requested');
  await forbiddenFrom(app.id, 'documents_requested', { household_id: household.id });
  await actOk(clerk, app.id, 'accept', {}, 'accepted');
  await actOk(clerk, app.id, 'withdraw', wfPayload('withdraw'), 'withdrawn');
  await checkAllowedActions(app.id, 'withdrawn');
  await forbiddenFrom(app.id, 'withdrawn', { household_id: household.id });
});

test('withdraw is allowed from received, visited and verified (by the town)', async () => {
  for (const state of ['received', 'visited', 'verified']) {
    const { app } = await newCase();
    await driveTo(app.id, state);
    await actOk(await as(state === 'visited' ? 'town_reviewer' : 'town_clerk'), app.id, 'withdraw', wfPayload('withdraw'), 'withdrawn');
  }
});

test('verified → awaiting_decision (town_opinion refuse, no public notice) → extend → refused', async () => {
  const { household, app } = await newCase();
  await driveTo(app.id, 'verified');
  await actOk(await as('town_reviewer'), app.id, 'town_opinion', { recommend: 'refuse', opinion: '收入超标。', escalate: false }, 'awaiting_decision');
  assert.equal(appRow(app.id).notice_ends ?? null, null, 'no public notice for a refusal recommendation');
  const ext = await actOk(await as('town_reviewer'), app.id, 'extend', { reason: '需补充核对。' }, 'awaiting_decision');
  assert.equal(ext.extended, true);
  await actOk(await as('reviewer'), app.id, 'refuse', { reasons: '家庭人均收入高于低保标准。' }, 'refused');
  await checkAllowedActions(app.id, 'refused');
  await forbiddenFrom(app.id, 'refused', { household_id: household.id });
});

test('extend in public_notice keeps the state; town_opinion needs a valid recommendation', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'verified');
  const tr = await as('town_reviewer');
  await actRefused(tr, app.id, 'town_opinion', { recommend: 'maybe', opinion: 'x', escalate: false }, 400, 'invalid_argument', 'recommend');
  await actOk(tr, app.id, 'town_opinion', { recommend: 'approve', opinion: '同意。', escalate: false }, 'public_notice');
  await actRefused(tr, app.id, 'extend', { reason: '' }, 400, 'invalid_argument', 'reason');
  const ext = await actOk(await as('reviewer'), app.id, 'extend', { reason: '公示期间有异议需核实。' }, 'public_notice');
  assert.equal(ext.extended, true);
});

test('CSRF: the action endpoint without or with a wrong X-CSRF-Token → 403 csrf_failed, nothing changed', async () => {
  const { app } = await newCase();
  const clerk = await as('town_clerk');
  const before = caseFootprint(app.id);
  const body = { action: 'accept', version: before.row.version };
  expectError(await clerk.post(`/applications/${app.id}/actions`, body, { csrf: false }), 403, 'csrf_failed');
  expectError(await clerk.post(`/applications/${app.id}/actions`, body, { csrf: 'nope' + clerk.csrf }), 403, 'csrf_failed');
  expectError(await clerk.post('/applications', { household_id: app.household_id, authorization: true, commitment: true }, { csrf: false }), 403, 'csrf_failed');
  assert.deepEqual(caseFootprint(app.id), before);
  // with the token it works
  await actOk(clerk, app.id, 'accept', {}, 'accepted');
});

test('the state list filter and the states of the machine', async () => {
  const clerk = await as('town_clerk');
  for (const s of WF_STATES) {
    const page = expectStatus(await clerk.get(`/applications?state=${s}&page_size=5`), 200, `state=${s}`);
    for (const i of page.items) assert.equal(i.state, s);
  }
  const enrolled = expectStatus(await clerk.get(`/applications?state=enrolled&q=${encodeURIComponent(A.app.case_no)}`), 200);
  assert.deepEqual(enrolled.items.map(i => String(i.id)), [String(A.app.id)]);
  const received = expectStatus(await clerk.get(`/applications?state=received&q=${encodeURIComponent(A.app.case_no)}`), 200);
  assert.equal(received.items.length, 0);
  // village filter within scope; another town's village → 404 like any resource outside the scope
  const v = expectStatus(await clerk.get(`/applications?village=${VILLAGE1}&page_size=50`), 200);
  for (const i of v.items) assert.equal(i.village_code, VILLAGE1);
  assert.equal(TOWN1, '370725107');
});

/** Makes the read log refuse rows about one application (a trigger), for `fn`; removed after. */
async function withReadLogRefusing(appId, fn) {
  const id = Number(appId);
  return withInsertRefused('read_log', `refuse_read_${id}`, `NEW.entity = 'application' AND NEW.entity_id = '${id}'`, fn);
}

test('a committed action whose answer cannot be read back says 500 committed_unread (saved, do not repeat), not a failure', async () => {
  const clerk = await as('town_clerk');
  const { app } = await newCase();
  const before = appRow(app.id);
  await withReadLogRefusing(app.id, async () => {
    // Reading the record needs its read logged: refused, and nothing is shown.
    expectError(await clerk.get(`/applications/${app.id}`), 500, 'internal');
    const res = await act(clerk, app.id, 'accept', {}, before.version);
    const e = expectError(res, 500, 'committed_unread');
    assert.match(e.message, /已保存成功.*勿重复提交/);
    assert.deepEqual(Object.keys(res.body), ['error'], 'no record without its read logged');
  });
  const row = appRow(app.id);
  assert.equal(row.state, 'accepted', 'the action was committed');
  assert.equal(row.version, before.version + 1);
  // Readable again once the read log takes rows: the accepted record, its read logged.
  const doc = expectStatus(await clerk.get(`/applications/${app.id}`), 200);
  assert.equal(doc.state, 'accepted');
  assert.equal(dbCount('read_log', `entity = 'application' AND entity_id = '${Number(app.id)}'`) > 0, true);
});

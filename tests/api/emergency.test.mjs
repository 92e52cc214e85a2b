// Act-first emergency help (issue 4, docs/workflow.md "Emergency help", docs/api.md "Emergency
// help"): within the town ceiling (370725: 300000 fen) the town pays at once from its reserve
// fund; above it the case waits for the county or a case conference (一事一议); paperwork later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, citizenId, chineseName, maskId, ISO_TS, TOWN1, TOWN2, dbQuery, dbExec, dbCount,
  sqlString, listAll, reserveBalance, citizenIdOf, FULL_ID_RE, VILLAGE1, randomBirth,
} from './lib.mjs';

const CEILING = 300000;

function aidInput(overrides = {}) {
  return {
    person_name: chineseName(),
    citizen_id: citizenId({ birth: randomBirth(1970, 1990) }),
    hukou_division: VILLAGE1,
    kind: 'fire',
    loss_fen: 800000,
    amount_fen: CEILING,
    description: '夜间失火，房屋烧毁，急需生活救助。',
    ...overrides,
  };
}

function dbBalance(town) {
  const rows = dbQuery(`SELECT balance_fen FROM reserve_funds WHERE town_code = ${sqlString(town)}`);
  assert.equal(rows.length, 1, `reserve_funds row of ${town}`);
  return Number(rows[0].balance_fen);
}

/** The suite runs many times on one database: keep enough money in the test town's fund. */
function ensureFunds(town, min = 2000000) {
  if (dbBalance(town) < min) dbExec(`UPDATE reserve_funds SET balance_fen = balance_fen + ${min * 2} WHERE town_code = ${sqlString(town)}`);
}

async function aidAct(client, aid, action, extra = {}) {
  return client.post(`/emergency-aid/${aid.id}/actions`, { action, version: aid.version, ...extra });
}

function checkAid(a, input, town = TOWN1) {
  assert.ok(a.id !== undefined && a.id !== null);
  assert.equal(typeof a.version, 'number');
  assert.equal(a.town_code, town);
  assert.equal(typeof a.town_name, 'string');
  assert.equal(a.person_name, input.person_name);
  assert.equal(a.citizen_id_masked, maskId(input.citizen_id));
  assert.equal(a.kind, input.kind);
  assert.equal(a.loss_fen, input.loss_fen);
  assert.equal(a.amount_fen, input.amount_fen);
  assert.ok(!FULL_ID_RE.test(JSON.stringify(a)), 'no full citizen id in EmergencyAid');
}

let paidByTown, awaiting;

test('reserve funds: one per town with balance and the required amount', async () => {
  const body = expectStatus(await (await as('town_clerk')).get('/reserve-funds'), 200);
  const f = body.items.find(i => i.town_code === TOWN1);
  assert.ok(f, 'fund of 乔官镇');
  assert.equal(f.town_name, '乔官镇');
  assert.equal(typeof f.balance_fen, 'number');
  assert.equal(typeof f.required_fen, 'number');
  assert.ok(f.required_fen > 0, 'the pack requires a reserve (2 yuan per resident)');
  assert.equal(f.balance_fen, dbBalance(TOWN1));
});

test('only the town records act-first help: village assistants and county/read-only roles 403, nothing written', async () => {
  const before = dbCount('emergency_aid');
  const balance = dbBalance(TOWN1);
  for (const u of ['village1', 'village3', 'supervisor', 'auditor', 'liaison']) {
    expectError(await (await as(u)).post('/emergency-aid', aidInput()), 403, 'permission_denied');
  }
  assert.equal(dbCount('emergency_aid'), before);
  assert.equal(dbBalance(TOWN1), balance);
});

test('invalid emergency input → 400 naming the field, nothing written', async () => {
  const clerk = await as('town_clerk');
  const before = dbCount('emergency_aid');
  const balance = dbBalance(TOWN1);
  expectError(await clerk.post('/emergency-aid', aidInput({ amount_fen: -1 })), 400, 'invalid_argument', 'amount_fen');
  expectError(await clerk.post('/emergency-aid', aidInput({ amount_fen: 1.5 })), 400, 'invalid_argument', 'amount_fen');
  expectError(await clerk.post('/emergency-aid', aidInput({ kind: 'lottery' })), 400, 'invalid_argument', 'kind');
  const bad = aidInput();
  bad.citizen_id = bad.citizen_id.slice(0, 17) + (bad.citizen_id[17] === '1' ? '2' : '1');
  expectError(await clerk.post('/emergency-aid', bad), 400, 'invalid_argument', 'citizen_id');
  expectError(await clerk.post('/emergency-aid', aidInput({ person_name: '' })), 400, 'invalid_argument', 'person_name');
  assert.equal(dbCount('emergency_aid'), before);
  assert.equal(dbBalance(TOWN1), balance);
});

test('amount = ceiling (300000): paid by the town at once; the reserve fund drops by exactly that amount', async () => {
  ensureFunds(TOWN1);
  const clerk = await as('town_clerk');
  const before = await reserveBalance(clerk, TOWN1);
  const input = aidInput({ amount_fen: CEILING });
  const a = expectStatus(await clerk.post('/emergency-aid', input), 201, 'emergency aid at the ceiling');
  checkAid(a, input);
  assert.equal(a.state, 'paid');
  assert.equal(a.approver, 'town');
  assert.match(a.paid_at, ISO_TS);
  assert.equal(a.paperwork_completed, false, 'paperwork follows afterwards');
  assert.equal(a.case_conference, null);
  const after = await reserveBalance(clerk, TOWN1);
  assert.equal(before - after, CEILING, `balance ${before} → ${after}`);
  assert.equal(dbBalance(TOWN1), after);
  paidByTown = a;
});

test('amount = ceiling + 1 (300001): awaiting_county, the balance is unchanged; the county approves → paid', async () => {
  ensureFunds(TOWN1);
  const clerk = await as('town_clerk');
  const before = await reserveBalance(clerk, TOWN1);
  const input = aidInput({ amount_fen: CEILING + 1, kind: 'illness' });
  const a = expectStatus(await clerk.post('/emergency-aid', input), 201, 'above the ceiling');
  checkAid(a, input);
  assert.equal(a.state, 'awaiting_county');
  assert.equal(a.paid_at ?? null, null);
  assert.equal(await reserveBalance(clerk, TOWN1), before, 'nothing paid by the town');
  assert.equal(dbBalance(TOWN1), before);
  awaiting = a;
  // the town cannot approve above its ceiling; another town does not see it
  const v = dbCount('emergency_aid', `id = ${Number(a.id)} AND state = 'awaiting_county'`);
  assert.equal(v, 1);
  expectError(await aidAct(clerk, a, 'approve_county'), 403, 'permission_denied');
  expectError(await aidAct(await as('town_reviewer'), a, 'approve_county'), 403, 'permission_denied');
  expectError(await aidAct(await as('town2_clerk'), a, 'approve_county'), 404, 'not_found');
  expectError(await aidAct(await as('reviewer'), { ...a, version: a.version + 7 }, 'approve_county'), 409, 'version_conflict');
  assert.equal(dbCount('emergency_aid', `id = ${Number(a.id)} AND state = 'awaiting_county'`), 1, 'still waiting');
  const ok = expectStatus(await aidAct(await as('reviewer'), a, 'approve_county', { note: '县级审批同意。' }), 200, 'approve_county');
  assert.equal(ok.state, 'paid');
  assert.equal(ok.approver, 'county');
  assert.match(ok.paid_at, ISO_TS);
  assert.ok(ok.version > a.version);
});

test('a case conference (一事一议) records its members and decision', async () => {
  const clerk = await as('town_clerk');
  const input = aidInput({ amount_fen: 600000, loss_fen: 2000000, kind: 'disaster' });
  const a = expectStatus(await clerk.post('/emergency-aid', input), 201);
  assert.equal(a.state, 'awaiting_county');
  const reviewer = await as('reviewer');
  expectError(await aidAct(reviewer, a, 'case_conference', { members: [], decision: 'approve' }), 400, 'invalid_argument', 'members');
  expectError(await aidAct(reviewer, a, 'case_conference', { members: ['张某', '李某', '王某'], decision: 'perhaps' }), 400, 'invalid_argument', 'decision');
  const members = ['县民政局 张某', '县财政局 李某', '乔官镇 王某'];
  const done = expectStatus(await aidAct(reviewer, a, 'case_conference', { members, decision: 'approve', note: '一事一议，同意救助。' }), 200, 'case_conference');
  assert.equal(done.state, 'paid');
  assert.equal(done.approver, 'case_conference');
  assert.deepEqual(done.case_conference.members, members);
  assert.equal(done.case_conference.decision, 'approve');
  const row = dbQuery(`SELECT case_conference, state FROM emergency_aid WHERE id = ${Number(a.id)}`)[0];
  assert.equal(row.state, 'paid');
  assert.ok(String(row.case_conference).includes('张某'));
});

test('complete_paperwork afterwards (by the town); a rejected case pays nothing', async () => {
  const clerk = await as('town_clerk');
  expectError(await aidAct(await as('village1'), paidByTown, 'complete_paperwork'), 403, 'permission_denied');
  // A village assistant sees the aid of people whose hukou is in the village, no other village's.
  const listed = async (u) => (await listAll(await as(u), '/emergency-aid')).some(i => Number(i.id) === Number(paidByTown.id));
  assert.equal(await listed('village1'), true, 'village1 (the hukou village) does not see the aid');
  assert.equal(await listed('village2'), false, 'village2 sees another village\'s aid');
  expectError(await aidAct(await as('village2'), paidByTown, 'complete_paperwork'), 404, 'not_found');
  const done = expectStatus(await aidAct(clerk, paidByTown, 'complete_paperwork', { note: '补齐申请书、身份证明。' }), 200, 'complete_paperwork');
  assert.equal(done.paperwork_completed, true);
  assert.equal(done.state, 'paid');
  assert.ok(done.version > paidByTown.version);
  // reject: awaiting_county → rejected, the balance unchanged
  ensureFunds(TOWN1);
  const before = await reserveBalance(clerk, TOWN1);
  const a = expectStatus(await clerk.post('/emergency-aid', aidInput({ amount_fen: 400000 })), 201);
  const rej = expectStatus(await aidAct(await as('reviewer'), a, 'reject', { note: '不符合条件。' }), 200, 'reject');
  assert.equal(rej.state, 'rejected');
  assert.equal(await reserveBalance(clerk, TOWN1), before);
});

test('a non-local person (hukou 110105) is helped where the emergency happens', async () => {
  ensureFunds(TOWN1);
  const clerk = await as('town_clerk');
  const before = await reserveBalance(clerk, TOWN1);
  const input = aidInput({ citizen_id: citizenIdOf('110105', '19880520'), hukou_division: '110105', kind: 'accident', amount_fen: 98000, loss_fen: 98000 });
  const a = expectStatus(await clerk.post('/emergency-aid', input), 201, 'non-local');
  checkAid(a, input);
  assert.equal(a.state, 'paid');
  assert.equal(a.approver, 'town');
  assert.equal(before - await reserveBalance(clerk, TOWN1), 98000);
});

test('the emergency list is region-scoped', async () => {
  const mine = await listAll(await as('town_clerk'), '/emergency-aid');
  for (const x of [paidByTown, awaiting]) assert.ok(mine.some(i => String(i.id) === String(x.id)), 'listed for the town');
  const other = await listAll(await as('town2_clerk'), '/emergency-aid');
  assert.ok(!other.some(i => String(i.id) === String(paidByTown.id)), 'not listed for another town');
  for (const i of other) assert.equal(i.town_code, TOWN2);
  assert.ok(!FULL_ID_RE.test(JSON.stringify(mine)), 'no full citizen id in the list');
});

test('the county\'s refusal needs its reason and keeps it', async () => {
  ensureFunds(TOWN1);
  const clerk = await as('town_clerk');
  const a = expectStatus(await clerk.post('/emergency-aid', aidInput({ amount_fen: 400000 })), 201);
  assert.equal(a.state, 'awaiting_county');
  expectError(await aidAct(await as('reviewer'), a, 'reject', {}), 400, 'invalid_argument', 'note');
  const rej = expectStatus(await aidAct(await as('reviewer'), a, 'reject', { note: '家庭有固定收入，不属于急难情形。' }), 200);
  assert.equal(rej.state, 'rejected');
  assert.equal(rej.decision_note, '家庭有固定收入，不属于急难情形。');
});

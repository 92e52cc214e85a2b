// The policy engine through the API and the CLI (issue 3): eval, household determinations,
// the county's pack with citations, admin edits with constraint checks and audit,
// simulation by town, and the CLI contract (eval on stdin, policy show/check).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { as, BIN, expectError, expectStatus, withCheck, createHousehold, personInput, listAll, runBin } from './lib.mjs';

const EVAL_INPUT = {
  area: 'rural', hukou_division: '370725',
  members: [
    { citizen_id: withCheck('37072519780723103'), relation: 'head', employed: true,
      monthly_income_fen: { wage: 150000 } },
    { citizen_id: withCheck('37072519800723105'), relation: 'spouse' },
    { citizen_id: withCheck('37072520110723107'), relation: 'child', in_school: true },
  ],
};

function policiesDir() { return BIN.replace(/build\/doudi$/, 'policies'); }

function evalCli(input, args) {
  return spawnSync(BIN, ['eval', '--policies', policiesDir(), ...args], {
    input: typeof input === 'string' ? input : JSON.stringify(input), encoding: 'utf8' });
}

test('POST /eval decides dibao by the difference method, with reasons and citations', async () => {
  const c = await as('village1');
  const res = await c.post('/eval?date=2023-09-01', EVAL_INPUT);
  const body = expectStatus(res, 200);
  // Rural standard on 2023-09-01 is 80000 fen; counted income 150000 - 20000 work cost.
  assert.equal(body.dibao.eligible, true);
  assert.equal(body.dibao.monthly_fen, 80000 * 3 - 130000);
  assert.equal(body.dibao.coverage, 'whole_household');
  assert.equal(body.dibao.covered.length, 3);
  const db1 = body.dibao.reasons.find(r => r.rule === 'DB-1');
  assert.ok(db1 && db1.passed, 'DB-1 reason');
  const std = db1.params.find(p => p.key === 'dibao.rural_monthly_fen');
  assert.equal(std.value, '80000');
  assert.ok(std.cite.length > 0);
  assert.ok(body.referrals.some(r => r.kind === 'education'));
  // The same household on an earlier date uses the 2022 standard (76000).
  const earlier = expectStatus(await c.post('/eval?date=2023-03-01', EVAL_INPUT), 200);
  assert.equal(earlier.dibao.monthly_fen, 76000 * 3 - 130000);
});

test('POST /eval rejects invalid input naming the field', async () => {
  const c = await as('village1');
  const bad = structuredClone(EVAL_INPUT);
  bad.members[1].citizen_id = bad.members[1].citizen_id.slice(0, 17) + (bad.members[1].citizen_id[17] === '1' ? '2' : '1');
  expectError(await c.post('/eval', bad), 400, 'invalid_argument', 'members[1].citizen_id');
  expectError(await c.post('/eval', { ...EVAL_INPUT, area: 'town' }), 400, 'invalid_argument', 'area');
  expectError(await c.post('/eval', { ...EVAL_INPUT, members: [] }), 400, 'invalid_argument', 'members');
  expectError(await c.post('/eval?date=2023-02-30', EVAL_INPUT), 400, 'invalid_argument', 'date');
});

test('a registered household gets its determinations; out of scope is 404', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1, undefined, [personInput({ relation: 'head', has_supporter: true })]);
  const det = expectStatus(await v1.get(`/households/${h.id}/determinations?date=2026-01-15`), 200);
  assert.equal(det.household_id, h.id);
  // One adult without income in a rural village: dibao at the rural standard in force.
  assert.equal(det.dibao.eligible, true);
  assert.ok(det.dibao.monthly_fen > 0);
  const v2 = await as('village2');
  expectError(await v2.get(`/households/${h.id}/determinations`), 404, 'not_found');
});

test('GET /policy lists parameters with value, source and citation, and the constraints', async () => {
  const c = await as('town_clerk');
  const body = expectStatus(await c.get('/policy?date=2023-09-01'), 200);
  assert.equal(body.county, '370725');
  const ceiling = body.parameters.find(p => p.key === 'temporary.town_ceiling_fen');
  assert.equal(ceiling.value, '300000');
  assert.equal(ceiling.source, 'seed');
  assert.match(ceiling.cite, /乐政办字〔2023〕10号/);
  assert.equal(ceiling.editable, false);
  const urban = body.parameters.find(p => p.key === 'dibao.urban_monthly_fen');
  assert.equal(urban.value, '98000');
  assert.ok(urban.history.length >= 2);
  assert.ok(body.constraints.some(k => k.id === '370725.urban_rural_ratio'));
  assert.equal(body.violations.filter(v => v.severity === 'error').length, 0);
  const liaison = await as('liaison');
  expectError(await liaison.get('/policy'), 403, 'permission_denied');
});

function tomorrow() {
  const d = new Date(Date.now() + 8 * 3600e3 + 86400e3);
  return d.toISOString().slice(0, 10);
}

test('the county admin edits a local setting; seed values, bad values and constraint breaches are refused', async () => {
  const admin = await as('admin');
  const from = tomorrow();
  expectError(await admin.post('/policy/entries', { key: 'temporary.town_ceiling_fen', from, value: '500000', note: '测试' }),
    403, 'permission_denied');
  expectError(await admin.post('/policy/entries', { key: 'dibao.gradual_exit_months', from, value: 'abc', note: '测试' }),
    400, 'invalid_argument', 'value');
  expectError(await admin.post('/policy/entries', { key: 'dibao.gradual_exit_months', from: '2020-01-01', value: '5', note: '测试' }),
    400, 'invalid_argument', 'from');
  expectError(await admin.post('/policy/entries', { key: 'dibao.gradual_exit_months', from, value: '5' }),
    400, 'invalid_argument', 'note');
  // Urban standard far above rural breaks 昌乐's 1.23 ratio (乐政办字〔2023〕10号).
  const breach = await admin.post('/policy/entries', { key: 'dibao.urban_monthly_fen', from, value: '200000', note: '测试越界' });
  const err = expectError(breach, 409, 'failed_precondition');
  assert.match(err.message, /1\.23/);
  const ok = await admin.post('/policy/entries', { key: 'dibao.gradual_exit_months', from, value: '5', note: '县里决定缩短渐退期', basis: '测试文件' });
  const param = expectStatus(ok, 201);
  assert.equal(param.value, '5');
  assert.ok(param.history.some(h => h.origin === 'overlay' && h.from === from && h.note === '县里决定缩短渐退期'));
  const shown = expectStatus(await admin.get(`/policy?date=${from}`), 200);
  assert.equal(shown.parameters.find(p => p.key === 'dibao.gradual_exit_months').value, '5');
  const audit = expectStatus(await (await as('auditor')).get('/audit?entity=policy_parameter'), 200);
  assert.ok(audit.items.some(e => e.entity_id === 'dibao.gradual_exit_months' && e.after.value === '5'));
  const clerk = await as('town_clerk');
  expectError(await clerk.post('/policy/entries', { key: 'dibao.gradual_exit_months', from, value: '4', note: 'x' }),
    403, 'permission_denied');
});

test('simulation: raising the rural standard costs more and removes nobody', async () => {
  const admin = await as('admin');
  const now = expectStatus(await admin.get('/policy'), 200);
  const rural = Number(now.parameters.find(p => p.key === 'dibao.rural_monthly_fen').value);
  const res = await admin.post('/policy/simulate', { set: { 'dibao.rural_monthly_fen': String(rural + 20000) } });
  const sim = expectStatus(res, 200);
  assert.equal(sim.changes[0].before, String(rural));
  assert.ok(sim.towns.length >= 8, 'every town listed');
  assert.ok(sim.totals.households > 0);
  assert.equal(sim.totals.no_longer_eligible, 0);
  assert.ok(sim.totals.cost_change_fen > 0, JSON.stringify(sim.totals));
  const sum = sim.towns.reduce((a, t) => a + t.cost_change_fen, 0);
  assert.equal(sum, sim.totals.cost_change_fen);
  expectError(await admin.post('/policy/simulate', { set: { 'no.such': '1' } }), 400, 'invalid_argument', 'set.no.such');
  const clerk = await as('town_clerk');
  expectError(await clerk.post('/policy/simulate', { set: { 'dibao.rural_monthly_fen': '90000' } }), 403, 'permission_denied');
});

test('CLI: eval reads stdin, names bad fields, and policy show/check work for all five counties', () => {
  const ok = evalCli(EVAL_INPUT, ['--county', '370725', '--date', '2023-09-01']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).dibao.monthly_fen, 110000);
  const bad = evalCli({ ...EVAL_INPUT, members: [{ ...EVAL_INPUT.members[0], relation: 'boss' }] }, ['--county', '370725']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /members\[0\]\.relation/);
  const notJson = evalCli('{', ['--county', '370725']);
  assert.notEqual(notJson.status, 0);
  for (const county of ['370725', '371522', '520524', '340321', '370321']) {
    const show = runBin(['policy', 'show', '--county', county, '--date', '2025-06-01', '--policies', policiesDir()]);
    assert.equal(show.code, 0, show.stderr);
    const p = JSON.parse(show.stdout).parameters;
    assert.ok(p['dibao.urban_monthly_fen'].value > 0, county);
    assert.ok(p['dibao.rural_monthly_fen'].cite.length > 0, county);
    const check = runBin(['policy', 'check', '--county', county, '--policies', policiesDir()]);
    assert.equal(check.code, 0, `${county}: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /0 项错误/);
  }
});

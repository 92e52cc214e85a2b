// Referrals (转办, issue 4, docs/api.md "Enrollments and referrals"): the specialized assistance the
// policy engine lists goes, on approval, to the department liaison (here 医保局 for a seriously
// ill member), who accepts and closes it; others cannot act on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, listAll, getApp, newCase, driveTo, dibaoMembers, workingDays, dbQuery,
} from './lib.mjs';

let app, medical;

test('approval of a household with a seriously ill member opens a medical referral (医保局) with a due date', async () => {
  const c = await newCase({ members: dibaoMembers({ spouse: { serious_illness: true } }) });
  app = c.app;
  await driveTo(app.id, 'verified');
  const full0 = await getApp(app.id);
  const kinds = full0.determinations.referrals.map(r => r.kind);
  assert.ok(kinds.includes('medical'), `the engine lists a medical referral: ${JSON.stringify(full0.determinations.referrals)}`);
  assert.equal(full0.referrals.length, 0, 'no referral before the decision');
  const done = await driveTo(app.id, 'enrolled');
  const full = await getApp(app.id);
  assert.equal(full.state, 'enrolled');
  assert.deepEqual(full.referrals.map(r => r.kind).sort(), [...kinds].sort(), 'one referral per listed kind');
  medical = full.referrals.find(r => r.kind === 'medical');
  assert.equal(medical.department, 'medical_insurance_bureau');
  assert.match(medical.department_label, /医保/);
  assert.equal(medical.status, 'open');
  // due: the pack's response days (workflow.referral.response_working_days = 10) from the decision date
  assert.equal(medical.due_date, await workingDays(done.decided_at.slice(0, 10), 10));
  assert.equal(dbQuery(`SELECT count(*) AS n FROM referrals WHERE application_id = ${Number(app.id)} AND status = 'open'`)[0].n * 1, kinds.length);
});

test('the 医保局 liaison sees only its department\'s referrals; town staff see their region\'s', async () => {
  const mine = await listAll(await as('liaison'), '/referrals');
  const r = mine.find(x => String(x.id) === String(medical.id));
  assert.ok(r, 'the liaison sees the medical referral');
  assert.equal(String(r.application_id), String(app.id));
  assert.equal(String(r.household_id), String(app.household_id));
  assert.equal(r.status, 'open');
  assert.ok(['ok', 'due_soon', 'overdue'].includes(r.due_status), r.due_status);
  // who, where, which case and how to reach them (issue 19 #1)
  const full = await getApp(app.id);
  assert.equal(r.case_no, full.case_no);
  assert.equal(r.applicant_name, full.applicant_name);
  assert.equal(r.applicant_citizen_id_masked, full.applicant_citizen_id_masked);
  assert.equal(r.applicant_phone, full.applicant_phone);
  assert.ok(r.applicant_phone.length > 0, 'a phone to reach the applicant');
  assert.equal(r.village_name, full.village_name);
  assert.ok(r.head_name.length > 0);
  for (const x of mine) assert.equal(x.department, 'medical_insurance_bureau', 'only its own department');
  const others = (await getApp(app.id)).referrals.filter(x => x.kind !== 'medical');
  for (const o of others) assert.ok(!mine.some(x => String(x.id) === String(o.id)), `${o.kind} is not for 医保局`);
  const town = await listAll(await as('town_clerk'), '/referrals');
  assert.ok(town.some(x => String(x.id) === String(medical.id)), 'the town sees the referral of its region');
  const town2 = await listAll(await as('town2_clerk'), '/referrals');
  assert.ok(!town2.some(x => String(x.id) === String(medical.id)), 'another town does not');
  const open = await listAll(await as('liaison'), '/referrals?status=open');
  assert.ok(open.some(x => String(x.id) === String(medical.id)));
  for (const x of open) assert.equal(x.status, 'open');
});

test('town clerk, reviewer and village staff cannot act on a referral (403); the liaison accepts and closes it', async () => {
  for (const u of ['town_clerk', 'town_reviewer', 'village1', 'reviewer', 'supervisor']) {
    expectError(await (await as(u)).post(`/referrals/${medical.id}/actions`, { action: 'accept', note: 'x' }), 403, 'permission_denied');
  }
  assert.equal(dbQuery(`SELECT status FROM referrals WHERE id = ${Number(medical.id)}`)[0].status, 'open', 'unchanged');
  const liaison = await as('liaison');
  expectError(await liaison.post(`/referrals/${medical.id}/actions`, { action: 'dance', note: '' }), 400, 'invalid_argument', 'action');
  const acc = expectStatus(await liaison.post(`/referrals/${medical.id}/actions`, { action: 'accept', note: '已受理，纳入医疗救助。' }), 200, 'accept');
  assert.equal(acc.status, 'accepted');
  assert.equal(String(acc.id), String(medical.id));
  const closed = expectStatus(await liaison.post(`/referrals/${medical.id}/actions`, { action: 'close', note: '已办结：落实医疗救助。' }), 200, 'close');
  assert.equal(closed.status, 'closed');
  assert.equal(dbQuery(`SELECT status FROM referrals WHERE id = ${Number(medical.id)}`)[0].status, 'closed');
  const full = await getApp(app.id);
  assert.equal(full.referrals.find(r => String(r.id) === String(medical.id)).status, 'closed');
});

test('a liaison of another department cannot act on the 医保局 referral', async () => {
  const other = (await getApp(app.id)).referrals.find(r => r.kind !== 'medical' && r.status === 'open');
  if (!other) return; // the engine listed only the medical referral
  const res = await (await as('liaison')).post(`/referrals/${other.id}/actions`, { action: 'accept', note: 'x' });
  assert.ok([403, 404].includes(res.status), `the 医保局 liaison on a ${other.kind} referral: ${res.status}`);
  assert.equal(dbQuery(`SELECT status FROM referrals WHERE id = ${Number(other.id)}`)[0].status, 'open');
});

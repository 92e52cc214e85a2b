// Credit (issue 4, docs/workflow.md "Credit"): an applicant (or member) on the dishonesty list
// cannot be accepted until the repayment is recorded; a trust-list applicant may be accepted with
// documents still missing (容缺受理), nobody else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, dbCount, sqlString, wrongCheck, listAll, appRow, getApp, actOk, actRefused, newCase,
} from './lib.mjs';

async function addCredit(person, list, owed = 0) {
  const body = { citizen_id: person.citizen_id, name: person.name, list, reason: list === 'dishonesty' ? '隐瞒收入骗取低保金' : '诚信记录良好', owed_fen: owed };
  const res = await (await as('admin')).post('/credit', body);
  const e = expectStatus(res, 201, `credit ${list}`);
  assert.ok(e.id !== undefined && e.id !== null);
  assert.equal(e.citizen_id, person.citizen_id);
  assert.equal(e.list, list);
  return e;
}

test('the credit lists are kept by the county: town and village staff 403; bad input 400; nothing written', async () => {
  const { household } = await newCase();
  const head = household.members[0];
  const body = { citizen_id: head.citizen_id, name: head.name, list: 'dishonesty', reason: '测试', owed_fen: 100 };
  for (const u of ['town_clerk', 'town_reviewer', 'village1', 'supervisor', 'liaison']) {
    expectError(await (await as(u)).post('/credit', body), 403, 'permission_denied');
  }
  for (const u of ['town_clerk', 'village1']) expectError(await (await as(u)).get('/credit'), 403, 'permission_denied');
  const admin = await as('admin');
  expectError(await admin.post('/credit', { ...body, list: 'grey' }), 400, 'invalid_argument', 'list');
  expectError(await admin.post('/credit', { ...body, citizen_id: wrongCheck(head.citizen_id) }), 400, 'invalid_argument', 'citizen_id');
  expectError(await admin.post('/credit', { ...body, owed_fen: -1 }), 400, 'invalid_argument', 'owed_fen');
  assert.equal(dbCount('credit_entries', `citizen_id = ${sqlString(head.citizen_id)}`), 0, 'nothing written');
});

test('dishonesty list: accept → 409 failed_precondition and the case stays received; after repay the accept succeeds', async () => {
  const { household, app } = await newCase();
  const head = household.members.find(m => m.relation === 'head');
  const entry = await addCredit(head, 'dishonesty', 120000);
  const listed = await listAll(await as('reviewer'), '/credit');
  assert.ok(listed.some(e => String(e.id) === String(entry.id)), 'listed');
  const clerk = await as('town_clerk');
  await actRefused(clerk, app.id, 'accept', {}, 409, 'failed_precondition');
  await actRefused(await as('town_reviewer'), app.id, 'accept', {}, 409, 'failed_precondition');
  assert.equal(appRow(app.id).state, 'received');
  assert.equal((await getApp(app.id)).notices.length, 0, 'no acceptance notice');
  // only the county records the repayment
  expectError(await clerk.post(`/credit/${entry.id}/repay`, {}), 403, 'permission_denied');
  await actRefused(clerk, app.id, 'accept', {}, 409, 'failed_precondition');
  expectStatus(await (await as('admin')).post(`/credit/${entry.id}/repay`, {}), 200, 'repay');
  const row = (await listAll(await as('admin'), '/credit')).find(e => String(e.id) === String(entry.id));
  assert.ok(row, 'still listed after repayment');
  await actOk(clerk, app.id, 'accept', {}, 'accepted');
});

test('dishonesty list: a member other than the applicant blocks the accept too', async () => {
  const { household, app } = await newCase();
  const spouse = household.members.find(m => m.relation === 'spouse');
  const entry = await addCredit(spouse, 'dishonesty', 5000);
  await actRefused(await as('town_clerk'), app.id, 'accept', {}, 409, 'failed_precondition');
  expectStatus(await (await as('reviewer')).post(`/credit/${entry.id}/repay`, {}), 200, 'repay by the county reviewer');
  await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
});

test('trust list: accept with missing documents is refused for a normal applicant and allowed for a trust-list one', async () => {
  const missing = ['低保申请书原件', '银行流水'];
  const normal = await newCase();
  await actRefused(await as('town_clerk'), normal.app.id, 'accept', { missing_items: missing }, 409, 'failed_precondition');
  assert.equal(appRow(normal.app.id).state, 'received');
  // without missing items the same applicant is accepted normally
  await actOk(await as('town_clerk'), normal.app.id, 'accept', { missing_items: [] }, 'accepted');

  const trusted = await newCase();
  await addCredit(trusted.household.members.find(m => m.relation === 'head'), 'trust');
  const acc = await actOk(await as('town_clerk'), trusted.app.id, 'accept', { missing_items: missing }, 'accepted');
  assert.deepEqual(acc.missing_items, missing, '容缺受理: what is still missing is recorded');
});

test('the trust list does not lift the dishonesty block', async () => {
  const { household, app } = await newCase();
  const head = household.members.find(m => m.relation === 'head');
  await addCredit(head, 'trust');
  await addCredit(head, 'dishonesty', 1000);
  await actRefused(await as('town_clerk'), app.id, 'accept', {}, 409, 'failed_precondition');
});

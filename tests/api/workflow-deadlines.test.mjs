// Deadlines of cases (issue 4, docs/workflow.md "Deadlines"): due_date = acceptance date + the
// pack's working days (370725: 10; 45 after `extend`), due_status overdue / due_soon / ok, sorting
// by due date, and a holiday added by the admin moving the deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectStatus, todayShanghai, dbExec, dbCount, sqlString, listAll, appRow, getApp, actOk, actRefused,
  newCase, workingDays,
} from './lib.mjs';

function addDays(d, n) { return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10); }

/** Rewrites accepted_at (keeping its time part) and due_date of a case. */
function setDates(id, acceptedOn, due) {
  const r = appRow(id);
  const rest = String(r.accepted_at).slice(10);
  dbExec(`UPDATE applications SET accepted_at = ${sqlString(acceptedOn + rest)}, due_date = ${sqlString(due)} WHERE id = ${Number(id)}`);
}

/** The acceptance date whose 10-working-day deadline is `due` (searching back day by day). */
async function acceptedFor(due) {
  for (let d = addDays(due, -1); d > addDays(due, -40); d = addDays(d, -1)) {
    if (await workingDays(d, 10) === due) return d;
  }
  throw new Error(`no acceptance date gives ${due}`);
}

test('an accepted case is due 10 working days (370725 pack) after its acceptance date; due_status ok', async () => {
  const { app } = await newCase();
  const acc = await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
  const day = acc.accepted_at.slice(0, 10);
  assert.equal(day, todayShanghai());
  assert.equal(acc.due_date, await workingDays(day, 10));
  assert.equal(acc.due_status, 'ok', '10 working days left');
  assert.equal(acc.extended, false);
  assert.equal(appRow(app.id).due_date.slice(0, 10), acc.due_date);
  // the list shows the due date and status too
  const list = expectStatus(await (await as('town_clerk')).get(`/applications?q=${encodeURIComponent(app.case_no)}`), 200);
  assert.equal(list.items[0].due_date, acc.due_date);
  assert.equal(list.items[0].due_status, 'ok');
  // a case not yet accepted has no deadline
  const fresh = await newCase();
  assert.equal(fresh.app.due_date, null);
});

test('extend: reason required; the limit becomes 45 working days from the acceptance date', async () => {
  const { app } = await newCase();
  const acc = await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
  const day = acc.accepted_at.slice(0, 10);
  const tr = await as('town_reviewer');
  await actRefused(tr, app.id, 'extend', {}, 400, 'invalid_argument', 'reason');
  await actRefused(tr, app.id, 'extend', { reason: '   ' }, 400, 'invalid_argument', 'reason');
  const ext = await actOk(tr, app.id, 'extend', { reason: '申请人家庭成员在外地，需异地协查。' }, 'accepted');
  assert.equal(ext.extended, true);
  assert.equal(ext.due_date, await workingDays(day, 45));
  assert.ok(ext.due_date > acc.due_date);
});

test('overdue: a case accepted on 2025-09-26 (due 2025-10-16 across National Day) and still open is overdue', async () => {
  const { app } = await newCase();
  await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
  // by hand: Fri 09-26 → Sun 09-28 (make-up) 1, 09-29 2, 09-30 3, [10-01…10-08 holidays], 10-09 4,
  // 10-10 5, Sat 10-11 (make-up) 6, 10-13 7, 10-14 8, 10-15 9, 10-16 10.
  assert.equal(await workingDays('2025-09-26', 10), '2025-10-16');
  setDates(app.id, '2025-09-26', '2025-10-16');
  const got = await getApp(app.id, await as('town_clerk'));
  assert.equal(got.due_date, '2025-10-16');
  assert.equal(got.due_status, 'overdue');
  // sorting by due date puts it before a case accepted today
  const other = await newCase();
  await actOk(await as('town_clerk'), other.app.id, 'accept', {}, 'accepted');
  const items = await listAll(await as('town_clerk'), '/applications?state=accepted&sort=due');
  const ia = items.findIndex(i => String(i.id) === String(app.id));
  const ib = items.findIndex(i => String(i.id) === String(other.app.id));
  assert.ok(ia >= 0 && ib >= 0, 'both listed');
  assert.ok(ia < ib, 'overdue first when sorted by due date');
  assert.equal(items[ia].due_status, 'overdue');
  const dues = items.map(i => i.due_date).filter(Boolean);
  assert.deepEqual([...dues].sort(), dues, 'sort=due orders by due_date');
});

test('due_soon: two working days left → due_soon; three → ok; a decided case is never overdue', async () => {
  const today = todayShanghai();
  const { app } = await newCase();
  await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
  const in2 = await workingDays(today, 2);
  setDates(app.id, await acceptedFor(in2), in2);
  assert.equal((await getApp(app.id)).due_status, 'due_soon');
  const in3 = await workingDays(today, 3);
  setDates(app.id, await acceptedFor(in3), in3);
  assert.equal((await getApp(app.id)).due_status, 'ok');
  // withdrawn long ago: no overdue colouring for a closed case
  setDates(app.id, '2025-09-26', '2025-10-16');
  await actOk(await as('town_clerk'), app.id, 'withdraw', { reason: '撤回。' }, 'withdrawn');
  assert.notEqual((await getApp(app.id)).due_status, 'overdue');
});

test('a holiday the admin adds inside the 10 working days moves the deadline of a case accepted afterwards', async () => {
  const admin = await as('admin');
  const today = todayShanghai();
  const plain = await workingDays(today, 10);
  // a working day within the period that has no calendar entry
  let k = 3, day = await workingDays(today, k);
  while (dbCount('holidays', `day = ${sqlString(day)}`) > 0) day = await workingDays(today, ++k);
  assert.ok(day < plain);
  try {
    expectStatus(await admin.put(`/holidays/${day}`, { kind: 'holiday', name: '测试临时假日' }), 200, 'PUT holiday');
    const expected = await workingDays(plain, 1); // one working day later
    assert.equal(await workingDays(today, 10), expected);
    const { app } = await newCase();
    const acc = await actOk(await as('town_clerk'), app.id, 'accept', {}, 'accepted');
    assert.equal(acc.due_date, expected, `holiday ${day} is skipped`);
  } finally {
    await admin.del(`/holidays/${day}`);
  }
  assert.equal(dbCount('holidays', `day = ${sqlString(day)}`), 0);
  assert.equal(await workingDays(today, 10), plain);
});

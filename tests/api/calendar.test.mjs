// The working-day calendar (issue 4, docs/workflow.md "Deadlines", docs/api.md "Calendar"):
// State Council holidays with make-up working days (调休) from build/data/holidays.csv.
// Expected dates are computed by hand below; the start day is never counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { as, expectError, expectStatus, workingDays, dbCount, sqlString } from './lib.mjs';

const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function weekday(d) { return WEEKDAY[new Date(`${d}T00:00:00Z`).getUTCDay()]; }
function addDays(d, n) { return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10); }

test('the calendar facts the hand computations rely on (holidays.csv, 2025 National Day and 2026 Spring Festival)', async () => {
  const admin = await as('admin');
  const y25 = expectStatus(await admin.get('/holidays?year=2025'), 200, 'holidays 2025');
  const k25 = Object.fromEntries(y25.items.map(i => [i.day, i.kind]));
  assert.equal(k25['2025-09-28'], 'workday', '2025-09-28 (Sunday) is a make-up working day');
  assert.equal(k25['2025-10-11'], 'workday', '2025-10-11 (Saturday) is a make-up working day');
  for (let d = 1; d <= 8; d++) assert.equal(k25[`2025-10-0${d}`], 'holiday', `2025-10-0${d} is a holiday`);
  assert.equal(weekday('2025-09-28'), 'Sun');
  assert.equal(weekday('2025-10-11'), 'Sat');
  for (const i of y25.items) {
    assert.match(i.day, /^2025-\d{2}-\d{2}$/, 'year filter');
    assert.ok(['holiday', 'workday'].includes(i.kind), i.kind);
    assert.equal(typeof i.name, 'string');
  }
  const y26 = expectStatus(await admin.get('/holidays?year=2026'), 200, 'holidays 2026');
  const k26 = Object.fromEntries(y26.items.map(i => [i.day, i.kind]));
  assert.equal(k26['2026-02-14'], 'workday');
  assert.equal(k26['2026-02-28'], 'workday');
  for (let d = 15; d <= 23; d++) assert.equal(k26[`2026-02-${d}`], 'holiday', `2026-02-${d}`);
  assert.equal(k26['2026-01-04'], 'workday');
  for (const d of ['2026-01-01', '2026-01-02', '2026-01-03']) assert.equal(k26[d], 'holiday', d);
});

test('working days across National Day 2025: holidays skipped, make-up Sunday/Saturday counted, start day not counted', async () => {
  const cases = [
    // from 2025-09-28 (Sun, make-up working day itself: not counted as the start)
    ['2025-09-28', 1, '2025-09-29'], // Mon
    ['2025-09-28', 2, '2025-09-30'], // Tue; Oct 1–8 holidays follow
    ['2025-09-28', 3, '2025-10-09'], // Thu
    ['2025-09-28', 4, '2025-10-10'], // Fri
    ['2025-09-28', 5, '2025-10-11'], // Sat, make-up working day
    ['2025-09-28', 6, '2025-10-13'], // Sun 12 skipped
    ['2025-09-28', 10, '2025-10-17'],
    // from Friday 2025-09-26: Sat 27 skipped, Sun 28 is a make-up working day
    ['2025-09-26', 1, '2025-09-28'],
    ['2025-09-26', 3, '2025-09-30'],
    ['2025-09-26', 4, '2025-10-09'],
    ['2025-09-26', 10, '2025-10-16'],
    // from inside the holiday
    ['2025-10-01', 1, '2025-10-09'],
    ['2025-10-05', 3, '2025-10-11'],
    ['2025-09-30', 1, '2025-10-09'],
    ['2025-10-10', 1, '2025-10-11'],
    ['2025-10-11', 1, '2025-10-13'],
  ];
  for (const [from, days, due] of cases) {
    const admin = await as('admin');
    const body = expectStatus(await admin.get(`/working-days?from=${from}&days=${days}`), 200, `${from}+${days}`);
    assert.equal(body.due, due, `${from} + ${days} working days`);
    assert.equal(body.from, from);
    assert.equal(Number(body.days), days);
  }
});

test('working days across New Year and Spring Festival 2026 (make-up Sunday 01-04, Saturdays 02-14 and 02-28)', async () => {
  const cases = [
    ['2025-12-31', 1, '2026-01-04'], // Jan 1–3 holidays, Sun Jan 4 make-up
    ['2025-12-31', 2, '2026-01-05'],
    ['2026-02-12', 1, '2026-02-13'], // Fri
    ['2026-02-12', 2, '2026-02-14'], // Sat make-up
    ['2026-02-12', 3, '2026-02-24'], // Feb 15–23 holidays
    ['2026-02-12', 7, '2026-02-28'], // Tue24 Wed25 Thu26 Fri27 Sat28(make-up)
    ['2026-02-12', 8, '2026-03-02'], // Sun Mar 1 skipped
    ['2026-02-12', 10, '2026-03-04'],
    ['2026-02-13', 10, '2026-03-05'],
    ['2026-02-14', 1, '2026-02-24'],
    // an ordinary weekend
    ['2026-11-20', 1, '2026-11-23'],
    ['2026-11-20', 10, '2026-12-04'],
  ];
  const admin = await as('admin');
  for (const [from, days, due] of cases) {
    const body = expectStatus(await admin.get(`/working-days?from=${from}&days=${days}`), 200, `${from}+${days}`);
    assert.equal(body.due, due, `${from} + ${days} working days`);
  }
  // 45 working days (the extended limit) from 2026-02-12 by hand: 10 → 03-04, then 35 more working days
  // in March–April 2026 (清明 Apr 4–6 holidays: Sat, Sun, Mon), no make-up days.
  // Mar 5..31: 19 working days (Mar 5,6,9–13,16–20,23–27,30,31) → 29 at 03-31;
  // Apr 1,2,3 → 32; Apr 6 holiday; Apr 7–10 → 36; 13–17 → 41; 20–23 → 45 = 2026-04-23.
  assert.equal(await workingDays('2026-02-12', 45), '2026-04-23');
});

test('working-days input is validated: bad date, negative or non-numeric days → 400 naming the parameter', async () => {
  const admin = await as('admin');
  expectError(await admin.get('/working-days?from=2025-02-30&days=3'), 400, 'invalid_argument', 'from');
  expectError(await admin.get('/working-days?from=20250930&days=3'), 400, 'invalid_argument', 'from');
  expectError(await admin.get('/working-days?days=3'), 400, 'invalid_argument', 'from');
  expectError(await admin.get('/working-days?from=2025-09-30&days=-1'), 400, 'invalid_argument', 'days');
  expectError(await admin.get('/working-days?from=2025-09-30&days=abc'), 400, 'invalid_argument', 'days');
});

test('the admin edits the calendar: a new holiday and a new make-up day change the answers; others get 403', async () => {
  const admin = await as('admin');
  // a far-future week nobody uses: find a Monday in 2099 without an entry
  let monday = '2099-06-01';
  while (weekday(monday) !== 'Mon') monday = addDays(monday, 1);
  const friday = addDays(monday, -3);
  const saturday = addDays(monday, 5);
  assert.equal(dbCount('holidays', `day IN (${sqlString(monday)}, ${sqlString(saturday)})`), 0, 'test days are free');
  assert.equal(await workingDays(friday, 1), monday);
  assert.equal(await workingDays(addDays(saturday, -1), 1), addDays(saturday, 2));
  for (const who of ['reviewer', 'town_clerk', 'supervisor']) {
    const c = await as(who);
    expectError(await c.put(`/holidays/${monday}`, { kind: 'holiday', name: '测试假日' }), 403, 'permission_denied');
  }
  assert.equal(dbCount('holidays', `day = ${sqlString(monday)}`), 0, 'a refused edit writes nothing');
  try {
    expectStatus(await admin.put(`/holidays/${monday}`, { kind: 'holiday', name: '测试假日' }), 200, 'PUT holiday');
    expectStatus(await admin.put(`/holidays/${saturday}`, { kind: 'workday', name: '测试调休' }), 200, 'PUT workday');
    const list = expectStatus(await admin.get('/holidays?year=2099'), 200);
    assert.deepEqual(list.items.find(i => i.day === monday), { day: monday, kind: 'holiday', name: '测试假日' });
    assert.deepEqual(list.items.find(i => i.day === saturday), { day: saturday, kind: 'workday', name: '测试调休' });
    // the holiday Monday is skipped; the make-up Saturday counts
    assert.equal(await workingDays(friday, 1), addDays(monday, 1));
    assert.equal(await workingDays(addDays(saturday, -1), 1), saturday);
    // the check of kind
    expectError(await admin.put(`/holidays/${addDays(monday, 1)}`, { kind: 'vacation', name: 'x' }), 400, 'invalid_argument', 'kind');
    expectError(await admin.put('/holidays/2099-02-30', { kind: 'holiday', name: 'x' }), 400, 'invalid_argument');
    expectError(await (await as('reviewer')).del(`/holidays/${monday}`), 403, 'permission_denied');
  } finally {
    await admin.del(`/holidays/${monday}`);
    await admin.del(`/holidays/${saturday}`);
  }
  assert.equal(dbCount('holidays', `day IN (${sqlString(monday)}, ${sqlString(saturday)})`), 0, 'DELETE removes the days');
  assert.equal(await workingDays(friday, 1), monday);
  assert.equal(await workingDays(addDays(saturday, -1), 1), addDays(saturday, 2));
});

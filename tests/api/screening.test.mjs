// Monthly screening (月排查、月公示、月报告): each village assistant's list of households to visit
// (open alerts and reviews falling due), visit results, and the Excel exports of the list, the
// public notice and the report. Runs in the current month (visits cannot be recorded ahead).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  as, downloadXlsx, VILLAGE1, VILLAGE2, VILLAGE3, expectError, expectStatus, dbQuery, dbExec, dbCount, sqlString,
  newCase, driveTo, todayShanghai, personInput, citizenId, randomBirth, createHousehold,
} from './lib.mjs';

const TODAY = todayShanghai();
const MONTH = TODAY.slice(0, 7);
const S = {};

function head(h) { return h.members.find(m => m.relation === 'head'); }

async function enrolled(village) {
  const { household, app } = await newCase({ village, programs: ['dibao'] });
  await driveTo(app.id, 'enrolled');
  return household;
}

function setReview(householdId, date) {
  dbExec(`UPDATE enrollments SET next_review_date = ${sqlString(date)} WHERE household_id = ${Number(householdId)}`);
}

/** An open alert of this month for a household, written as a monitoring run would. */
function insertAlert(h, village, town, indicator = 'at_risk_not_covered') {
  const p = head(h);
  dbExec(`INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code,
    town_code, village_code, month, details, status, due_date, created_at, updated_at) VALUES
    (${sqlString(indicator)}, 'missing', 'high', ${sqlString(p.citizen_id)}, ${sqlString(p.name)}, ${Number(h.id)},
     '370725', ${sqlString(town)}, ${sqlString(village)}, ${sqlString(MONTH)}, '{"source":"at_risk"}', 'new',
     '2099-12-31', '${TODAY}T08:00:00+08:00', '${TODAY}T08:00:00+08:00')`);
}

async function list(username, query = '') {
  const c = await as(username);
  return expectStatus(await c.get(`/screening?month=${MONTH}&page_size=200${query}`), 200, `screening as ${username}`);
}

/** Downloads an export; {status, headers, rows (arrays of cell text), sheet} or {status, body}. */
async function exportXlsx(username, kind, month = MONTH) {
  return downloadXlsx(await as(username), `/screening/export?month=${month}&kind=${kind}`);
}

test('screening: setup — reviews falling due, an open alert, a household not due', async () => {
  S.dueV1 = await enrolled(VILLAGE1);
  S.dueV2 = await enrolled(VILLAGE2);
  S.notDue = await enrolled(VILLAGE1);
  setReview(S.dueV1.id, `${MONTH}-01`);
  setReview(S.dueV2.id, TODAY);
  setReview(S.notDue.id, `${Number(MONTH.slice(0, 4)) + 1}-${MONTH.slice(5)}-15`);
  const clerk = await as('town_clerk');
  S.alerted = await createHousehold(clerk, VILLAGE1, [personInput({ relation: 'head',
    citizen_id: citizenId({ birth: randomBirth(1980, 1990) }) })]);
  insertAlert(S.alerted, VILLAGE1, '370725107');
  S.ready = true;
});

function needSetup() { assert.ok(S.ready, 'setup did not run'); }

test('screening: each assistant gets their own village\'s households with the reasons; the town sees both villages', async () => {
  needSetup();
  const v1 = await list('village1');
  const ids1 = v1.items.map(i => i.household_id);
  assert.ok(ids1.includes(S.dueV1.id), 'review due this month is listed');
  assert.ok(ids1.includes(S.alerted.id), 'open alert is listed');
  assert.ok(!ids1.includes(S.notDue.id), 'a review due next year is not listed');
  assert.ok(!ids1.includes(S.dueV2.id), 'another village is not listed');
  assert.ok(v1.items.every(i => i.village_code === VILLAGE1), 'only village1');
  const due = v1.items.find(i => i.household_id === S.dueV1.id);
  assert.equal(due.head_name, head(S.dueV1).name);
  assert.equal(due.members, S.dueV1.members.length);
  assert.deepEqual(due.reasons.map(r => [r.kind, r.program]), [['review', 'dibao']]);
  assert.equal(due.visit, null);
  const al = v1.items.find(i => i.household_id === S.alerted.id);
  assert.deepEqual(al.reasons.map(r => [r.kind, r.indicator]), [['alert', 'at_risk_not_covered']]);
  assert.match(al.reasons[0].description, /[\u4e00-\u9fff]/);

  const v2 = await list('village2');
  assert.ok(v2.items.some(i => i.household_id === S.dueV2.id));
  assert.ok(!v2.items.some(i => i.household_id === S.dueV1.id));
  const town = await list('town_clerk');
  const tids = town.items.map(i => i.household_id);
  assert.ok(tids.includes(S.dueV1.id) && tids.includes(S.dueV2.id) && tids.includes(S.alerted.id));
  const v3 = await list('village3');
  assert.ok(!v3.items.some(i => [S.dueV1.id, S.dueV2.id, S.alerted.id].includes(i.household_id)), 'other town: none');
  // A village filter within scope narrows; outside scope is refused.
  const narrowed = await list('town_clerk', `&village=${VILLAGE2}`);
  assert.ok(narrowed.items.every(i => i.village_code === VILLAGE2) && narrowed.items.length >= 1);
  expectError(await (await as('village1')).get(`/screening?month=${MONTH}&village=${VILLAGE2}`), 404, 'not_found');
  expectError(await (await as('town_clerk')).get(`/screening?month=${MONTH}&village=370725107`), 400, 'invalid_argument', 'village');
  expectError(await (await as('village1')).get('/screening?month=2026-13'), 400, 'invalid_argument', 'month');
});

test('screening: a visit is recorded once, corrected with its version, and counted in the summary', async () => {
  needSetup();
  const v1 = await as('village1');
  const before = await list('village1');
  const visit = { month: MONTH, household_id: S.dueV1.id, result: 'no_change', visited_on: TODAY };
  const created = expectStatus(await v1.post('/screening/visits', visit), 201, 'record a visit');
  assert.equal(created.version, 1);
  assert.equal(created.result_label, '情况无变化');
  const after = await list('village1');
  assert.equal(after.summary.visited, before.summary.visited + 1);
  assert.equal(after.summary.pending, before.summary.pending - 1);
  const item = after.items.find(i => i.household_id === S.dueV1.id);
  assert.deepEqual([item.visit.result, item.visit.visited_on, item.visit.visited_by], ['no_change', TODAY, 'village1']);
  // Recording again without the version, or with a stale one, does not overwrite.
  expectError(await v1.post('/screening/visits', { ...visit, result: 'changed', note: '家庭成员务工' }), 400,
    'invalid_argument', 'version');
  expectError(await v1.post('/screening/visits', { ...visit, result: 'changed', note: '家庭成员务工', version: 7 }), 409,
    'version_conflict');
  const fixed = expectStatus(await v1.post('/screening/visits',
    { ...visit, result: 'changed', note: '家庭成员外出务工', version: 1 }), 200, 'correct the visit');
  assert.equal(fixed.version, 2);
  const again = await list('village1');
  assert.equal(again.summary.changed, after.summary.changed + 1);
  assert.equal(again.summary.visited, after.summary.visited);
  // Filters.
  const pending = await list('village1', '&status=pending');
  assert.ok(!pending.items.some(i => i.household_id === S.dueV1.id));
  const visited = await list('village1', '&status=visited');
  assert.ok(visited.items.some(i => i.household_id === S.dueV1.id) && visited.items.every(i => i.visit));
  // Audited as a write with before and after.
  const audit = dbQuery(`SELECT action, before_json, after_json FROM audit_log WHERE entity = 'screening_visit'
    AND entity_id = ${sqlString(String(created.id))} ORDER BY id`);
  assert.deepEqual(audit.map(a => a.action), ['screening.visit', 'screening.visit']);
  assert.match(audit[1].before_json, /no_change/);
  assert.match(audit[1].after_json, /changed/);
});

test('screening: bad visits are refused naming the field and write nothing', async () => {
  needSetup();
  const v1 = await as('village1');
  const n = dbCount('screening_visits');
  const ok = { month: MONTH, household_id: S.alerted.id, result: 'absent', note: '外出务工未归', visited_on: TODAY };
  const tomorrow = new Date(Date.parse(`${TODAY}T12:00:00+08:00`) + 86400000).toISOString().slice(0, 10);
  const [ny, nm] = MONTH.split('-').map(Number);
  const nextMonth = `${nm === 12 ? ny + 1 : ny}-${String(nm === 12 ? 1 : nm + 1).padStart(2, '0')}`;
  const cases = [
    [{ ...ok, result: 'gone' }, 400, 'result'],
    [{ ...ok, note: '' }, 400, 'note'],
    [{ ...ok, visited_on: tomorrow }, 400, 'visited_on'],
    [{ ...ok, visited_on: '2020-01-01' }, 400, 'visited_on'],
    [{ ...ok, visited_on: '2026-02-30' }, 400, 'visited_on'],
    [{ ...ok, month: nextMonth }, 400, 'month'],
    [{ ...ok, household_id: 'x' }, 400, 'household_id'],
  ];
  for (const [body, status, field] of cases)
    expectError(await v1.post('/screening/visits', body), status, 'invalid_argument', field);
  expectError(await v1.post('/screening/visits', { ...ok, household_id: S.dueV2.id }), 404, 'not_found');
  expectError(await (await as('supervisor')).post('/screening/visits', ok), 403, 'permission_denied');
  assert.equal(dbCount('screening_visits'), n, 'nothing written');
});

test('screening exports: the list, the public notice (name, size, amount only) and the report open in Excel', async () => {
  needSetup();
  // The list: village1's households with their visit results.
  const lst = await exportXlsx('village1', 'list');
  assert.equal(lst.status, 200);
  assert.equal(lst.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  assert.match(lst.headers.get('content-disposition'), /^attachment; filename=".+\.xlsx"; filename\*=UTF-8''%/);
  assert.match(decodeURIComponent(lst.headers.get('content-disposition').split("UTF-8''")[1]), /月排查清单\.xlsx$/);
  assert.match(lst.rows[0][0], /困难群众月排查清单/);
  assert.deepEqual(lst.rows[1].slice(0, 4), ['序号', '镇（街道）', '村（社区）', '户主']);
  const row = lst.rows.find(r => r[3] === head(S.dueV1).name);
  assert.ok(row, 'the visited household is on the list');
  assert.equal(row[6], '情况有变化，需复核');
  assert.equal(row[7], TODAY);
  assert.ok(lst.rows.some(r => r[3] === head(S.alerted).name && r[6] === '未走访'));
  assert.ok(!lst.rows.some(r => r[3] === head(S.dueV2).name), 'another village is not exported');
  const reads = dbCount('read_log', `entity = 'screening_list'`);
  assert.ok(reads >= 1, 'exporting names is a logged read');

  // The notice: enrolled households with name, size and amount; no citizen id anywhere.
  const notice = await exportXlsx('town_clerk', 'notice');
  assert.equal(notice.status, 200);
  assert.match(notice.rows[0][0], /社会救助对象公示名单/);
  const enrolledRow = notice.rows.find(r => r[3] === head(S.dueV1).name);
  assert.ok(enrolledRow, 'an enrolled household is published');
  assert.equal(enrolledRow[4], '最低生活保障');
  const enr = dbQuery(`SELECT monthly_fen, covered FROM enrollments WHERE household_id = ${S.dueV1.id} AND program = 'dibao'`)[0];
  assert.equal(Number(enrolledRow[5]), JSON.parse(enr.covered).length);
  assert.equal(Math.round(Number(enrolledRow[6]) * 100), Number(enr.monthly_fen));
  const all = notice.rows.flat().join(' ');
  for (const m of S.dueV1.members) assert.ok(!all.includes(m.citizen_id), 'no citizen id in the public notice');
  assert.ok(!notice.rows.some(r => r[3] === head(S.alerted).name), 'a household in no programme is not published');
  const v3notice = await exportXlsx('village3', 'notice');
  assert.ok(!v3notice.rows.some(r => r[3] === head(S.dueV1).name), 'another town\'s notice does not list it');

  // The report: one line per village of the town, with a total line that adds up.
  const rep = await exportXlsx('town_clerk', 'report');
  assert.equal(rep.status, 200);
  assert.match(rep.rows[0][0], /动态管理月报告/);
  const header = rep.rows[1];
  const col = (name) => header.indexOf(name);
  const listed = await list('town_clerk');
  const total = rep.rows.find(r => r[0] === '合计');
  assert.ok(total, 'a total line');
  assert.equal(Number(total[col('应排查户数')]), listed.summary.households);
  assert.equal(Number(total[col('已走访户数')]), listed.summary.visited);
  const v1list = await list('village1');
  const v1row = rep.rows.find(r => r[1] === v1list.items[0].village_name);
  assert.ok(v1row, 'village1 line');
  assert.equal(Number(v1row[col('应排查户数')]), v1list.summary.households);
  const county = await exportXlsx('admin', 'report');
  assert.ok(county.rows.some(r => r[0] === '乔官镇'), 'the county report has a line per town');

  const bad = await exportXlsx('village1', 'payroll');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'kind');
});

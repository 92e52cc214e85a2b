// Dynamic monitoring (issue 5), the monthly run: its indicators (each on its case and its near
// miss), no duplicates on a re-run, the region-scoped alerts inbox, closing the loop (discovery
// application, suspension of wrong payments), the rectification report by town, and uploads and
// runs as background jobs. The feeds' own tests (declaration, import, validation) are in
// monitoring-feeds.test.mjs. Contract: src/monitoring/{feeds,monitor}.cc,
// src/http/api_monitoring.cc, docs/feeds.md, docs/api.md ("Dynamic monitoring").
//
// The month of this file is one no feed, run or alert of the database uses yet (lib/feeds.mjs);
// the persons are fresh random citizen ids. The tests of this file share the registry situation
// built by the "monitor: build …" test and run in order.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import {
  as, DB, TOWN1, TOWN2, VILLAGE1, VILLAGE2, VILLAGE3, expectError, expectStatus, citizenId, wrongCheck, personInput,
  createHousehold, listAll, dbQuery, dbExec, dbCount, sqlString, runBin, newCase, driveTo, randomBirth, maskId,
  getApp, todayShanghai, withInsertRefused,
} from './lib.mjs';
import { MONTH, LAST_DAY, D, yuan, yuanGrouped, csv, q, upload, uploadOk, isChinese } from './lib/feeds.mjs';

// ---------------------------------------------------------------- helpers
/** A person born 1985–1995 (working age in every candidate month). */
function adult(overrides = {}) {
  return personInput({ citizen_id: citizenId({ birth: randomBirth(1985, 1995) }), ...overrides });
}

/** A fresh household of 乔官镇 brought to `enrolled` through the workflow; returns the Household. */
async function enrolledHousehold(village, members, programs) {
  const { household, app } = await newCase({ village, members, programs });
  await driveTo(app.id, 'enrolled');
  const ens = dbQuery(`SELECT program, status FROM enrollments WHERE household_id = ${Number(household.id)}`);
  for (const p of programs)
    assert.ok(ens.some(e => e.program === p && e.status === 'active'),
      `household ${household.id} enrolled in ${p}: ${JSON.stringify(ens)}`);
  return household;
}

/** A household not in any programme (created by the clerk of its town). */
async function plainHousehold(village, members) {
  const clerk = await as(village.startsWith(TOWN2) ? 'town2_clerk' : 'town_clerk');
  return createHousehold(clerk, village, members);
}

function headOf(h) { return h.members.find(m => m.relation === 'head') || h.members[0]; }

/** All alerts of an indicator visible to `username`, optionally only of this run's month. */
async function alertsOf(username, indicator, thisMonth = true) {
  const c = await as(username);
  const items = await listAll(c, `/alerts${indicator ? `?indicator=${indicator}` : ''}`);
  return thisMonth ? items.filter(a => a.month === MONTH) : items;
}

/** The alerts of this month for a household (and indicator) as the county reviewer sees them. */
async function alertsFor(household, indicator) {
  return (await alertsOf('reviewer', indicator)).filter(a => a.household_id === household.id);
}

async function runMonth(username = 'reviewer') {
  const c = await as(username);
  const rep = expectStatus(await c.post('/monitor/runs', { month: MONTH }), 201, `monitor run ${MONTH}`);
  for (const k of ['run_id', 'persons', 'feed_rows', 'matched', 'alerts_raised', 'alerts_existing'])
    assert.equal(typeof rep[k], 'number', `run report ${k}: ${JSON.stringify(rep)}`);
  assert.equal(typeof rep.by_indicator, 'object');
  return rep;
}

async function alertAct(username, alert, body) {
  return (await as(username)).post(`/alerts/${alert.id}/actions`, body);
}

function enrollmentStatus(householdId, program) {
  const rows = dbQuery(`SELECT status FROM enrollments WHERE household_id = ${Number(householdId)}
    AND program = ${sqlString(program)} ORDER BY id`);
  return rows.map(r => r.status);
}

// ================================================================= 1. indicators
// The registry situation of this month (built once, used by the tests below).
const S = { ready: false };

test('monitor: build the registry situation, import the month\'s feeds and run the month', async () => {
  const reviewer = await as('reviewer');
  const pol = expectStatus(await reviewer.get(`/policy?date=${LAST_DAY}`), 200, 'policy').parameters;
  const param = (k) => {
    const p = pol.find(x => x.key === k);
    assert.ok(p, `policy parameter ${k}`);
    return Number(p.value);
  };
  const std = param('dibao.rural_monthly_fen');
  const workCost = param('income.work_cost_deduction_monthly_fen');
  assert.ok(std > 10000, `rural standard ${std}`);
  S.std = std;
  S.workCost = workCost;

  // Recipients (dibao, single person, no income) of 乔官镇.
  const dibao = (village = VILLAGE1) => enrolledHousehold(village, [adult({ relation: 'head' })], ['dibao']);
  S.rDied = await dibao();
  S.rBadRow = await dibao();
  S.rVehicle = await dibao();
  S.rOther = await dibao(VILLAGE2);
  S.rWageHigh = await dibao();
  S.rWageLow = await dibao();
  S.rWageComma = await dibao();
  S.rStaffKin = await dibao();
  S.rEstate = await dibao();
  S.rBusiness = await dibao();
  S.rTwice = await dibao();
  S.rStaffRecorded = await dibao();
  // Marginal households: an earner keeps the per-capita income at 1.25 × the standard.
  const marginal = () => enrolledHousehold(VILLAGE1, [
    adult({ relation: 'head', employed: true,
      monthly_income_fen: { wage: workCost + Math.round(2.5 * std), business: 0, property: 0, transfer: 0, pension: 0, other: 0 } }),
    adult({ relation: 'spouse' }),
  ], ['marginal']);
  S.mSingle = await marginal();
  S.mNear = await marginal();
  // Persons not in any programme.
  S.pDeath = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.pVehicle = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.pOther = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.pDisab = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.atV1 = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.atV2 = await plainHousehold(VILLAGE2, [adult({ relation: 'head' })]);
  S.atV3 = await plainHousehold(VILLAGE3, [adult({ relation: 'head' })]);
  // Earners at 1.2 × the standard (marginal by income, in no programme) for the medical indicator.
  const earner = () => plainHousehold(VILLAGE1, [adult({ relation: 'head', employed: true,
    monthly_income_fen: { wage: workCost + Math.round(1.2 * std), business: 0, property: 0, transfer: 0, pension: 0, other: 0 } })]);
  S.medFire = await earner();
  S.medNear = await earner();
  S.pStaffKin = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.pEstate = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  S.pBusiness = await plainHousehold(VILLAGE1, [adult({ relation: 'head' })]);
  // A person covered by tekun as well as dibao (as a data error or a double approval would leave it).
  const twice = headOf(S.rTwice).citizen_id;
  dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at) SELECT household_id, county_code, town_code,
    village_code, 'tekun', covered, 90000, first_paid_month, 'active', next_review_date, created_at, updated_at
    FROM enrollments WHERE household_id = ${Number(S.rTwice.id)} AND program = 'dibao'`);
  assert.ok(dbQuery(`SELECT covered FROM enrollments WHERE household_id = ${Number(S.rTwice.id)} AND program = 'tekun'`)[0]
    .covered.includes(twice), 'tekun covers the dibao recipient');

  const h = (x) => headOf(x);
  const spouse = (x) => x.members.find(m => m.relation === 'spouse');
  S.death = await uploadOk('death', csv([['citizen_id', 'name', 'date_of_death'],
    [h(S.rDied).citizen_id, h(S.rDied).name, D(4)],
    [h(S.pDeath).citizen_id, h(S.pDeath).name, D(4)]]));
  // A recipient's death row with an impossible date: rejected at import (line 2).
  const badDeath = expectStatus(await upload(await as('admin'), 'death', csv([['citizen_id', 'name', 'date_of_death'],
    [h(S.rBadRow).citizen_id, h(S.rBadRow).name, '2025-02-30']])), 201, 'death file with a bad row');
  assert.deepEqual([badDeath.imported, badDeath.invalid, badDeath.problems[0]?.line, badDeath.problems[0]?.field],
    [0, 1, 2, 'date_of_death']);
  await uploadOk('vehicle', csv([['citizen_id', 'name', 'plate', 'registered_on', 'value_yuan'],
    [h(S.rVehicle).citizen_id, h(S.rVehicle).name, '鲁G' + randomInt(10000, 99999), D(5), '68000'],
    [h(S.pVehicle).citizen_id, h(S.pVehicle).name, '鲁G' + randomInt(10000, 99999), D(5), '68000']]));
  await uploadOk('other_county_recipient', csv([['citizen_id', 'name', 'county_code', 'program', 'monthly_yuan'],
    [h(S.rOther).citizen_id, h(S.rOther).name, '370702', '低保', '600'],
    [h(S.pOther).citizen_id, h(S.pOther).name, '370702', '低保', '600']]));
  await uploadOk('at_risk', csv([['citizen_id', 'name', 'listed_on', 'risk_type'],
    [h(S.atV1).citizen_id, h(S.atV1).name, D(2), '因病'],
    [h(S.atV2).citizen_id, h(S.atV2).name, D(2), '因残'],
    [h(S.atV3).citizen_id, h(S.atV3).name, D(2), '因学'],
    [h(S.rVehicle).citizen_id, h(S.rVehicle).name, D(2), '因病']]));
  S.highWage = 3 * std + 100000; // ≥ 1,000 元, far above the standard after the work-cost deduction
  await uploadOk('wage', csv([['citizen_id', 'name', 'month', 'wage_yuan'],
    [h(S.rWageHigh).citizen_id, h(S.rWageHigh).name, MONTH, yuan(S.highWage)],
    [h(S.rWageLow).citizen_id, h(S.rWageLow).name, MONTH, yuan(Math.floor(std / 2))],
    [h(S.rWageComma).citizen_id, h(S.rWageComma).name, MONTH, q(yuanGrouped(S.highWage))]]));
  await uploadOk('disability', csv([['citizen_id', 'name', 'kind', 'grade', 'issued_on'],
    [spouse(S.mSingle).citizen_id, spouse(S.mSingle).name, '肢体', '1', D(6)],
    [spouse(S.mNear).citizen_id, spouse(S.mNear).name, '肢体', '4', D(6)],
    [h(S.pDisab).citizen_id, h(S.pDisab).name, '肢体', '1', D(6)]]));
  await uploadOk('medical', csv([['citizen_id', 'name', 'month', 'total_yuan', 'out_of_pocket_yuan'],
    [h(S.medFire).citizen_id, h(S.medFire).name, MONTH, yuan(std * 2), yuan(Math.floor(std / 2))],
    [h(S.medNear).citizen_id, h(S.medNear).name, MONTH, '50.00', '10.00']]));

  await uploadOk('real_estate', csv([['citizen_id', 'name', 'certificate_no', 'registered_on', 'area_m2'],
    [h(S.rEstate).citizen_id, h(S.rEstate).name, '鲁(2026)昌乐县不动产权第' + randomInt(1000, 9999) + '号', D(7), '96'],
    [h(S.pEstate).citizen_id, h(S.pEstate).name, '鲁(2026)昌乐县不动产权第' + randomInt(1000, 9999) + '号', D(7), '96']]));
  await uploadOk('business', csv([['citizen_id', 'name', 'business_name', 'registered_on', 'capital_yuan'],
    [h(S.rBusiness).citizen_id, h(S.rBusiness).name, '昌乐县某某商店', D(8), '50000'],
    [h(S.pBusiness).citizen_id, h(S.pBusiness).name, '昌乐县某某超市', D(8), '50000']]));
  // Staff and their close relatives as declared to the personnel department: one recipient
  // without a record (备案), one recorded in the county's list, one person in no programme.
  const admin = await as('admin');
  expectStatus(await admin.post('/staff-relatives', { citizen_id: h(S.rStaffRecorded).citizen_id,
    name: h(S.rStaffRecorded).name, staff_name: '张建国', relation: '父子' }), 201, 'record a staff relative');
  await uploadOk('staff_kin', csv([['身份证号', '姓名', '工作人员姓名', '工作单位', '与工作人员关系'],
    [h(S.rStaffKin).citizen_id, h(S.rStaffKin).name, '李卫东', '乔官镇人民政府', '母子'],
    [h(S.rStaffRecorded).citizen_id, h(S.rStaffRecorded).name, '张建国', '昌乐县民政局', '父子'],
    [h(S.pStaffKin).citizen_id, h(S.pStaffKin).name, '王志强', '乔官镇卫生院', '本人']]));

  S.run1 = await runMonth('reviewer');
  assert.ok(S.run1.persons >= 20, `persons ${S.run1.persons}`);
  assert.ok(S.run1.matched >= 25, `matched ${S.run1.matched}: each of the 25 valid feed rows above names a registry person`);
  assert.ok(S.run1.alerts_raised >= 8, `alerts raised ${JSON.stringify(S.run1)}`);
  S.alertCount1 = dbCount('alerts', `month = '${MONTH}'`);
  assert.equal(S.alertCount1, S.run1.alerts_raised, 'alerts of this month = alerts raised by the first run');
  S.ready = true;
});

function needSetup() { assert.ok(S.ready, 'the registry situation of this month was not built (see the test above)'); }

test('indicator recipient_died: a recipient in the death feed fires; a non-recipient does not', async () => {
  needSetup();
  const a = await alertsFor(S.rDied, 'recipient_died');
  assert.equal(a.length, 1, `one alert for the dead recipient: ${JSON.stringify(a)}`);
  assert.equal(a[0].status, 'new');
  assert.equal(a[0].category, 'improper');
  assert.equal(a[0].village_code, VILLAGE1);
  assert.equal(a[0].person_name, headOf(S.rDied).name);
  assert.equal(a[0].citizen_id_masked, maskId(headOf(S.rDied).citizen_id));
  assert.equal(a[0].details?.date_of_death, D(4));
  assert.equal(a[0].details?.source, 'death');
  assert.match(a[0].due_date, /^\d{4}-\d{2}-\d{2}$/, 'due date');
  assert.ok(a[0].due_date > todayShanghai(), `due ${a[0].due_date} after today`);
  assert.equal(a[0].overdue, false);
  assert.deepEqual(await alertsFor(S.pDeath), [], 'no alert at all for the non-recipient in the death feed');
});

test('indicator staff_relative_unrecorded: a recipient declared as staff kin without a record fires; a recorded one and a non-recipient do not', async () => {
  needSetup();
  const a = await alertsFor(S.rStaffKin, 'staff_relative_unrecorded');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].category, 'improper');
  assert.equal(a[0].severity, 'high');
  assert.deepEqual([a[0].details?.staff_name, a[0].details?.employer, a[0].details?.relation],
    ['李卫东', '乔官镇人民政府', '母子']);
  assert.deepEqual(await alertsFor(S.rStaffRecorded, 'staff_relative_unrecorded'), [], 'recorded (备案): silent');
  assert.deepEqual(await alertsFor(S.pStaffKin), [], 'not a recipient: silent');
});

test('indicators recipient_real_estate and recipient_business: a recipient\'s new property or business fires; a non-recipient\'s does not', async () => {
  needSetup();
  const e = await alertsFor(S.rEstate, 'recipient_real_estate');
  assert.equal(e.length, 1, JSON.stringify(e));
  assert.equal(e[0].details?.registered_on, D(7));
  const b = await alertsFor(S.rBusiness, 'recipient_business');
  assert.equal(b.length, 1, JSON.stringify(b));
  assert.equal(b[0].details?.registered_on, D(8));
  assert.deepEqual(await alertsFor(S.pEstate), []);
  assert.deepEqual(await alertsFor(S.pBusiness), []);
});

test('indicator paid_twice_dibao_tekun: a person covered by dibao and tekun fires; a dibao-only recipient does not', async () => {
  needSetup();
  const a = await alertsFor(S.rTwice, 'paid_twice_dibao_tekun');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].category, 'duplicate');
  assert.equal(a[0].person_name, headOf(S.rTwice).name);
  assert.deepEqual(await alertsFor(S.rEstate, 'paid_twice_dibao_tekun'), []);
  assert.deepEqual(await alertsFor(S.rVehicle, 'paid_twice_dibao_tekun'), []);
});

test('indicator recipient_died: a death row rejected at import (bad date) raises no alert', async () => {
  needSetup();
  const a = await alertsFor(S.rBadRow);
  assert.deepEqual(a.map(x => [x.indicator, x.details?.line]), [],
    'the row was reported invalid and not imported, so the run must not use it');
});

test('indicator recipient_vehicle: a recipient with a new vehicle fires; a non-recipient does not', async () => {
  needSetup();
  const a = await alertsFor(S.rVehicle, 'recipient_vehicle');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].details?.registered_on, D(5));
  assert.deepEqual(await alertsFor(S.pVehicle), []);
});

test('indicator paid_twice_other_county: a recipient paid in another county fires; a non-recipient does not', async () => {
  needSetup();
  const a = await alertsFor(S.rOther, 'paid_twice_other_county');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].category, 'duplicate');
  assert.equal(a[0].village_code, VILLAGE2);
  assert.equal(a[0].details?.county_code, '370702');
  assert.deepEqual(await alertsFor(S.pOther), []);
});

test('indicator at_risk_not_covered: an at-risk person in no programme fires; an enrolled recipient does not', async () => {
  needSetup();
  for (const [h, v] of [[S.atV1, VILLAGE1], [S.atV2, VILLAGE2], [S.atV3, VILLAGE3]]) {
    const a = await alertsFor(h, 'at_risk_not_covered');
    assert.equal(a.length, 1, `${v}: ${JSON.stringify(a)}`);
    assert.equal(a[0].village_code, v);
    assert.equal(a[0].category, 'missing');
  }
  assert.deepEqual(await alertsFor(S.rVehicle, 'at_risk_not_covered'), []);
});

test('indicator recipient_income_rise: a wage above the standard fires; a small wage under it does not', async () => {
  needSetup();
  const a = await alertsFor(S.rWageHigh, 'recipient_income_rise');
  assert.equal(a.length, 1, `wage ${yuan(S.highWage)} 元 against a standard of ${yuan(S.std)} 元: ${JSON.stringify(a)}`);
  assert.equal(a[0].details?.source, 'wage');
  assert.deepEqual(await alertsFor(S.rWageLow), [], `wage ${yuan(Math.floor(S.std / 2))} 元 keeps the household under the standard`);
});

test('indicator recipient_income_rise: a wage written with thousands separators ("1,234.56", accepted at import) fires too', async () => {
  needSetup();
  const a = await alertsFor(S.rWageComma, 'recipient_income_rise');
  assert.equal(a.length, 1,
    `wage "${yuanGrouped(S.highWage)}" 元 (imported as ${S.highWage} fen) against a standard of ${yuan(S.std)} 元: ${JSON.stringify(a)}`);
});

test('indicator single_person_candidate: a severe disability in a marginal household fires; grade 4 or a non-marginal household does not', async () => {
  needSetup();
  const sp = S.mSingle.members.find(m => m.relation === 'spouse');
  const a = await alertsFor(S.mSingle, 'single_person_candidate');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].person_name, sp.name);
  assert.equal(a[0].category, 'missing');
  assert.deepEqual(await alertsFor(S.mNear), [], 'grade 4 is not severe');
  assert.deepEqual(await alertsFor(S.pDisab), [], 'not a marginal household');
});

test('indicator illness_poverty_candidate: high out-of-pocket spending against income fires; a small one does not', async () => {
  needSetup();
  const a = await alertsFor(S.medFire, 'illness_poverty_candidate');
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0].category, 'missing');
  assert.deepEqual(await alertsFor(S.medNear), []);
});

// ================================================================= 2. re-run
test('re-running the month raises no duplicate (API and CLI)', async () => {
  needSetup();
  const rep = await runMonth('admin');
  assert.equal(rep.alerts_raised, 0, `second run: ${JSON.stringify(rep)}`);
  assert.ok(rep.alerts_existing > 0, `alerts_existing: ${JSON.stringify(rep)}`);
  assert.ok(rep.alerts_existing >= S.alertCount1, `every alert of the first run is found open again: ${JSON.stringify(rep)}`);
  assert.equal(dbCount('alerts', `month = '${MONTH}'`), S.alertCount1, 'same number of alerts');
  const cli = runBin(['monitor', '--db', DB, '--month', MONTH], { timeout: 120000 });
  assert.equal(cli.code, 0, `doudi monitor: ${cli.stderr}`);
  const out = JSON.parse(cli.stdout);
  assert.equal(out.alerts_raised, 0, cli.stdout);
  assert.ok(out.alerts_existing >= S.alertCount1, cli.stdout);
  assert.equal(dbCount('alerts', `month = '${MONTH}'`), S.alertCount1);
  assert.equal(dbCount('monitor_runs', `month = '${MONTH}'`), 3);
});

// ================================================================= 3. inbox scope
test('alerts inbox is scoped by region; an alert outside the scope is 404 on actions', async () => {
  needSetup();
  const ids = async (u) => new Set((await alertsOf(u, 'at_risk_not_covered')).map(a => a.household_id));
  const [a1] = await alertsFor(S.atV1, 'at_risk_not_covered');
  const [a2] = await alertsFor(S.atV2, 'at_risk_not_covered');
  const [a3] = await alertsFor(S.atV3, 'at_risk_not_covered');
  assert.ok(a1 && a2 && a3, 'the three at-risk alerts exist');

  const v1All = await alertsOf('village1', '', false);
  assert.ok(v1All.length > 0);
  assert.ok(v1All.every(a => a.village_code === VILLAGE1), 'village1 sees only its village');
  const v1 = await ids('village1');
  assert.ok(v1.has(S.atV1.id) && !v1.has(S.atV2.id) && !v1.has(S.atV3.id), 'village1: only the 乔南村 alert');

  const t2All = await alertsOf('town2_clerk', '', false);
  assert.ok(t2All.every(a => a.village_code.startsWith(TOWN2)), 'town2_clerk sees only 宝都街道');
  assert.ok(!t2All.some(a => a.village_code.startsWith(TOWN1)), 'town2_clerk sees none of 乔官镇');
  const t2 = await ids('town2_clerk');
  assert.ok(t2.has(S.atV3.id) && !t2.has(S.atV1.id) && !t2.has(S.atV2.id));

  const t1 = await ids('town_clerk');
  assert.ok(t1.has(S.atV1.id) && t1.has(S.atV2.id) && !t1.has(S.atV3.id), 'town_clerk: 乔官镇 only');
  const rv = await ids('reviewer');
  assert.ok(rv.has(S.atV1.id) && rv.has(S.atV2.id) && rv.has(S.atV3.id), 'the county reviewer sees all');

  // The list total agrees with the scope.
  const page = expectStatus(await (await as('village1')).get('/alerts?page_size=1'), 200);
  assert.equal(page.total, v1All.length);

  const before = dbQuery(`SELECT id, status, version FROM alerts WHERE id IN (${a1.id}, ${a2.id}, ${a3.id}) ORDER BY id`);
  expectError(await alertAct('village1', a2, { action: 'verify', version: a2.version }), 404, 'not_found');
  expectError(await alertAct('village2', a1, { action: 'verify', version: a1.version }), 404, 'not_found');
  expectError(await alertAct('town2_clerk', a1, { action: 'resolve', version: a1.version, note: '越权', confirmed: true }),
    404, 'not_found');
  expectError(await alertAct('town_clerk', a3, { action: 'verify', version: a3.version }), 404, 'not_found');
  expectError(await (await as('village1')).post('/alerts/999999999/actions', { action: 'verify', version: 1 }), 404, 'not_found');
  expectError(await alertAct('liaison', a1, { action: 'verify', version: a1.version }), 403, 'permission_denied');
  assert.deepEqual(dbQuery(`SELECT id, status, version FROM alerts WHERE id IN (${a1.id}, ${a2.id}, ${a3.id}) ORDER BY id`),
    before, 'refused actions change nothing');
});

// ================================================================= 4. closing the loop
test('closing the loop: a confirmed at-risk alert starts a discovery application; wrong payments are suspended', async () => {
  needSetup();
  const [a] = await alertsFor(S.atV1, 'at_risk_not_covered');
  assert.equal(a.status, 'new');
  const appsBefore = dbCount('applications', `household_id = ${S.atV1.id}`);
  expectError(await alertAct('village1', a, { action: 'verify', version: a.version + 1 }), 409, 'version_conflict');
  const verified = expectStatus(await alertAct('village1', a, { action: 'verify', version: a.version, note: '已入户' }), 200);
  assert.equal(verified.status, 'verifying');
  assert.equal(verified.version, a.version + 1);
  expectError(await alertAct('village1', a, { action: 'verify', version: verified.version }), 409, 'invalid_transition');
  expectError(await alertAct('village1', a, { action: 'resolve', version: a.version, confirmed: true, note: '旧版本' }),
    409, 'version_conflict');
  expectError(await alertAct('village1', a, { action: 'resolve', version: verified.version, confirmed: true }),
    400, 'invalid_argument', 'note');
  expectError(await alertAct('village1', a, { action: 'resolve', version: verified.version, confirmed: true, note: '' }),
    400, 'invalid_argument', 'note');
  expectError(await alertAct('village1', a, { action: 'close', version: verified.version, note: 'x' }),
    400, 'invalid_argument', 'action');
  assert.equal(dbCount('applications', `household_id = ${S.atV1.id}`), appsBefore, 'no application from refused actions');
  // The application and the alert's resolution are one write: when the alert's part fails (here
  // its audit entry is refused), the application is not left behind for a retry to duplicate.
  await withInsertRefused('audit_log', `refuse_alert_${Number(a.id)}`,
    `NEW.entity = 'alert' AND NEW.entity_id = '${Number(a.id)}'`, async () => {
      expectError(await alertAct('village1', a, { action: 'resolve', version: verified.version, confirmed: true,
        note: '经入户核实，家庭确有困难' }), 500, 'internal');
    });
  assert.equal(dbCount('applications', `household_id = ${S.atV1.id}`), appsBefore, 'no application without the alert resolved');
  assert.deepEqual(dbQuery(`SELECT status, version FROM alerts WHERE id = ${Number(a.id)}`),
    [{ status: 'verifying', version: verified.version }]);
  const resolved = expectStatus(await alertAct('village1', a, { action: 'resolve', version: verified.version, confirmed: true,
    note: '经入户核实，家庭确有困难，应纳入救助' }), 200);
  assert.equal(resolved.status, 'resolved');
  assert.equal(typeof resolved.application_id, 'number', `application_id: ${JSON.stringify(resolved)}`);
  const app = await getApp(resolved.application_id);
  assert.equal(app.channel, 'discovery');
  assert.equal(app.state, 'received');
  assert.equal(app.household_id, S.atV1.id);
  assert.equal(dbCount('applications', `household_id = ${S.atV1.id}`), appsBefore + 1);
  const [after] = await alertsFor(S.atV1, 'at_risk_not_covered');
  assert.equal(after.status, 'resolved');
  assert.equal(after.confirmed, true);
  assert.equal(after.application_id, resolved.application_id);
  assert.equal(after.version, verified.version + 1);
  expectError(await alertAct('village1', after, { action: 'resolve', version: after.version, confirmed: true, note: '再次' }),
    409, 'invalid_transition');

  // A confirmed death suspends the household's dibao enrollment (resolved straight from new).
  const [d] = await alertsFor(S.rDied, 'recipient_died');
  assert.deepEqual(enrollmentStatus(S.rDied.id, 'dibao'), ['active']);
  const dr = expectStatus(await alertAct('town_clerk', d, { action: 'resolve', version: d.version, confirmed: true,
    note: '经核实已死亡，停发待终止' }), 200);
  assert.equal(dr.status, 'resolved');
  assert.equal(dr.application_id, null);
  assert.ok(dr.suspended_enrollments >= 1, JSON.stringify(dr));
  assert.deepEqual(enrollmentStatus(S.rDied.id, 'dibao'), ['suspended']);

  // Not confirmed: the vehicle turned out not to be the recipient's; the enrollment stays active.
  const [v] = await alertsFor(S.rVehicle, 'recipient_vehicle');
  const vr = expectStatus(await alertAct('town_clerk', v, { action: 'resolve', version: v.version, confirmed: false,
    note: '车辆已于登记当月转让，不属实' }), 200);
  assert.equal(vr.suspended_enrollments, 0);
  assert.deepEqual(enrollmentStatus(S.rVehicle.id, 'dibao'), ['active']);
  const [vAfter] = await alertsFor(S.rVehicle, 'recipient_vehicle');
  assert.equal(vAfter.confirmed, false);
  assert.equal(vAfter.resolution, '车辆已于登记当月转让，不属实');
});

// ================================================================= 5. rectification
test('rectification: found / resolved / confirmed / overdue by town and category match the alerts of the month', async () => {
  needSetup();
  // One open alert past its due date.
  const [a2] = await alertsFor(S.atV2, 'at_risk_not_covered');
  assert.equal(a2.overdue, false);
  dbExec(`UPDATE alerts SET due_date = '2020-01-02' WHERE id = ${a2.id}`);
  const [a2After] = await alertsFor(S.atV2, 'at_risk_not_covered');
  assert.equal(a2After.overdue, true, 'listed as overdue');

  const rows = dbQuery(`SELECT citizen_id, town_code, village_code, category, status, confirmed, due_date FROM alerts
    WHERE month = '${MONTH}'`);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const expected = (filter = () => true) => {
    const towns = {};
    for (const r of rows.filter(filter)) {
      const t = towns[r.town_code] ??= { missing: z(), duplicate: z(), improper: z() };
      const c = t[r.category];
      c.found++;
      if (r.status === 'resolved') { c.resolved++; if (Number(r.confirmed) === 1 || r.confirmed === true) c.confirmed++; }
      else if (today > r.due_date) c.overdue++;
    }
    return towns;
  };
  function z() { return { found: 0, resolved: 0, confirmed: 0, overdue: 0 }; }
  const pick = (items) => Object.fromEntries(items.map(i => [i.town_code,
    { missing: i.missing, duplicate: i.duplicate, improper: i.improper }]));

  const rep = expectStatus(await (await as('reviewer')).get(`/monitor/rectification?month=${MONTH}`), 200);
  assert.equal(rep.month, MONTH);
  assert.deepEqual(pick(rep.items), expected(), 'county view');
  const t1 = rep.items.find(i => i.town_code === TOWN1);
  assert.ok(t1 && isChinese(t1.town_name), 'town name');
  // What this file did in 乔官镇: at least these.
  assert.ok(t1.missing.found >= 4, `missing found: at-risk ×2, single person, illness: ${JSON.stringify(t1)}`);
  assert.ok(t1.missing.resolved >= 1 && t1.missing.confirmed >= 1, JSON.stringify(t1.missing));
  assert.ok(t1.missing.overdue >= 1, JSON.stringify(t1.missing));
  assert.ok(t1.improper.found >= 3 && t1.improper.resolved >= 2 && t1.improper.confirmed >= 1, JSON.stringify(t1.improper));
  assert.ok(t1.duplicate.found >= 1, JSON.stringify(t1.duplicate));
  const t2 = rep.items.find(i => i.town_code === TOWN2);
  assert.ok(t2 && t2.missing.found >= 1, `宝都街道: the at-risk alert: ${JSON.stringify(rep.items)}`);

  // Scoped: a town sees only itself, a village only its own alerts.
  const r2 = expectStatus(await (await as('town2_clerk')).get(`/monitor/rectification?month=${MONTH}`), 200);
  assert.deepEqual(pick(r2.items), expected(r => r.town_code === TOWN2), 'town2 view');
  const rv1 = expectStatus(await (await as('village1')).get(`/monitor/rectification?month=${MONTH}`), 200);
  assert.deepEqual(pick(rv1.items), expected(r => r.village_code === VILLAGE1), 'village1 view');
});

// ================================================================= 6. re-run after resolution
test('re-running the month after resolving does not raise the same feed row again', async () => {
  needSetup();
  const before = dbCount('alerts', `month = '${MONTH}'`);
  const rep = await runMonth('reviewer');
  const again = (await alertsFor(S.atV1, 'at_risk_not_covered')).length;
  const died = (await alertsFor(S.rDied, 'recipient_died')).length;
  const vehicle = (await alertsFor(S.rVehicle, 'recipient_vehicle')).length;
  assert.deepEqual({ at_risk: again, died, vehicle, raised: rep.alerts_raised, total: dbCount('alerts', `month = '${MONTH}'`) },
    { at_risk: 1, died: 1, vehicle: 1, raised: 0, total: before },
    'the resolved alerts (confirmed, or found untrue) of this month\'s rows are not raised again by the same rows');
});

// ================================================================= 7. background jobs with progress
async function waitJob(client, job) {
  for (let i = 0; i < 200; i++) {
    const j = expectStatus(await client.get(`/jobs/${job.id}`), 200, 'job');
    assert.ok(['running', 'done', 'failed'].includes(j.status), j.status);
    if (j.status !== 'running') return j;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`job ${job.id} did not finish`);
}

test('jobs: an upload and a run started with async answer 202 and report progress and the result to their owner only', async () => {
  needSetup();
  const admin = await as('admin');
  const h = headOf(S.pDeath);
  const text = csv([['citizen_id', 'name', 'date_of_death'], [h.citizen_id, h.name, D(9)], [wrongCheck(citizenId({ birth: randomBirth(1980, 1990) })), 'x', D(9)]]);
  const started = expectStatus(await upload(admin, 'death', text, { filename: 'async.csv', async: true }), 202, 'async upload');
  assert.equal(started.job.status, 'running');
  assert.equal(started.job.kind, 'feed_import');
  const done = await waitJob(admin, started.job);
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.deepEqual([done.result.rows, done.result.imported, done.result.invalid, done.result.problems[0]?.line,
    done.result.problems[0]?.field], [2, 1, 1, 3, 'citizen_id']);
  assert.ok(dbCount('feed_files', `id = ${Number(done.result.file_id)}`) === 1, 'the file went in');
  assert.equal(done.step, 'import');
  assert.ok(done.total >= 2, `progress total ${done.total}`);
  // Someone else cannot read the job (404 as for a missing one).
  expectError(await (await as('reviewer')).get(`/jobs/${started.job.id}`), 404, 'not_found');
  expectError(await admin.get('/jobs/0123456789abcdef01234567'), 404, 'not_found');
  // A failing job reports the error as the synchronous request would.
  // A bad month or source is refused before any job starts.
  expectError(await upload(admin, 'death', text, { month: '2026-13', async: true }), 400, 'invalid_argument', 'month');
  expectError(await upload(admin, 'nosuch', text, { async: true }), 400, 'invalid_argument', 'source');
  const bad = expectStatus(await upload(admin, 'death', 'foo,bar\n1,2\n', { filename: 'bad.csv', async: true }), 202);
  const failed = await waitJob(admin, bad.job);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.code, 'invalid_argument');
  assert.match(failed.error.message, /[\u4e00-\u9fff]/);

  const reviewer = await as('reviewer');
  const run = expectStatus(await reviewer.post('/monitor/runs', { month: MONTH, async: true }), 202, 'async run');
  assert.equal(run.job.kind, 'monitor_run');
  const ran = await waitJob(reviewer, run.job);
  assert.equal(ran.status, 'done', JSON.stringify(ran));
  assert.ok(ran.result.run_id > 0 && ran.result.persons >= 20, JSON.stringify(ran.result));
  assert.ok(['registry', 'feed death', 'feed vehicle'].some(s => ran.step.startsWith(s.split(' ')[0])), ran.step);
  const runs = expectStatus(await reviewer.get('/monitor/runs'), 200);
  const listed = runs.items.find(r => r.id === ran.result.run_id);
  assert.ok(listed, 'the run is listed');
  assert.deepEqual([listed.month, listed.origin, listed.actor], [MONTH, 'manual', 'reviewer']);
  assert.ok(listed.finished_at >= listed.started_at);
  // Village staff may not start runs.
  expectError(await (await as('village1')).post('/monitor/runs', { month: MONTH, async: true }), 403, 'permission_denied');
});

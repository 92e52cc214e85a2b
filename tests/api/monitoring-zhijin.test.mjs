// The zero-employment indicator (零就业家庭 → employment referral) fires only where the county's
// policy gives such households priority: 织金 (520524) does, the demo county 昌乐 (370725) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  as, DB, PASSWORD, VILLAGE1, expectStatus, dbQuery, dbExec, runBin, personInput, citizenId, randomBirth, uniq,
  createHousehold, todayShanghai, unusedMonth,
} from './lib.mjs';

/** Two working-age adults; `employed` sets the head's employment. */
function members(employed) {
  return [
    personInput({ relation: 'head', citizen_id: citizenId({ birth: randomBirth(1982, 1990) }), employed,
      self_care: 'full' }),
    personInput({ relation: 'spouse', citizen_id: citizenId({ birth: randomBirth(1982, 1990) }), employed: false,
      self_care: 'full' }),
  ];
}

/** An active dibao enrollment covering every member (as an approval would leave it). */
function enrol(h) {
  const covered = JSON.stringify(h.members.map(m => m.citizen_id));
  const now = `${todayShanghai()}T09:00:00+08:00`;
  dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at) VALUES (${Number(h.id)}, '${h.village_code.slice(0, 6)}',
    '${h.village_code.slice(0, 9)}', '${h.village_code}', 'dibao', '${covered}', 60000, '${todayShanghai().slice(0, 7)}',
    'active', '2099-01-01', '${now}', '${now}')`);
}

test('zero_employment: fires for a recipient household with nobody employed in 织金; silent with an earner, and in 昌乐', async () => {
  const month = unusedMonth(2027, 2036);
  const village = dbQuery(`SELECT code FROM regions WHERE level = 'village' AND code LIKE '520524%' ORDER BY code LIMIT 1`)[0].code;
  const admin = uniq('zj_admin');
  const r = runBin(['user', 'add', '--db', DB, '--username', admin, '--password', PASSWORD, '--name', '织金管理员',
    '--role', 'county_admin', '--region', '520524']);
  assert.equal(r.code, 0, r.stderr);
  const zj = await as(admin);
  const jobless = await createHousehold(zj, village, members(false));
  const earner = await createHousehold(zj, village, members(true));
  enrol(jobless);
  enrol(earner);
  // The same situation in 昌乐.
  const cl = await createHousehold(await as('town_clerk'), VILLAGE1, members(false));
  enrol(cl);

  const rep = expectStatus(await zj.post('/monitor/runs', { month }), 201, 'run 织金');
  assert.ok(rep.persons >= 4, JSON.stringify(rep));
  const alerts = dbQuery(`SELECT household_id, indicator, category, village_code FROM alerts
    WHERE month = '${month}' AND indicator = 'zero_employment'`);
  const ids = alerts.map(a => Number(a.household_id));
  assert.ok(ids.includes(jobless.id), `the jobless recipient household: ${JSON.stringify(alerts)}`);
  assert.ok(!ids.includes(earner.id), 'a household with an earner: silent');
  const a = alerts.find(x => Number(x.household_id) === jobless.id);
  assert.deepEqual([a.category, a.village_code], ['missing', village]);
  // Visible in 织金's inbox, listed once per household (the head).
  const inbox = expectStatus(await zj.get('/alerts?indicator=zero_employment&page_size=200'), 200);
  assert.equal(inbox.items.filter(i => i.household_id === jobless.id && i.month === month).length, 1);

  const cRep = expectStatus(await (await as('reviewer')).post('/monitor/runs', { month }), 201, 'run 昌乐');
  assert.ok(cRep.persons > 0);
  assert.equal(dbQuery(`SELECT COUNT(*) AS n FROM alerts WHERE household_id = ${cl.id} AND indicator = 'zero_employment'`)[0].n, 0,
    '昌乐 does not prioritize zero-employment households: no alert');
});

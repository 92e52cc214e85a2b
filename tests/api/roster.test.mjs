// The household roster (户籍家庭花名册): GET /households/export gives the households a list
// query finds (every page) as an Excel workbook, citizen ids masked, inside the user's scope
// only, and each export is one entry of the read log.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  as, downloadXlsx, VILLAGE1, VILLAGE2, VILLAGE3, TOWN1, expectError, createHousehold, personInput, citizenId, uniq,
  dbQuery, dbCount,
} from './lib.mjs';

/** Downloads the roster; {status, headers, rows (arrays of cell text)} or {status, body}. */
function roster(client, query = '') { return downloadXlsx(client, `/households/export${query}`); }

const HEADER = ['序号', '镇（街道）', '村（社区）', '户主姓名', '户主身份证号', '家庭人数', '家庭成员', '城乡', '居住地址',
  '联系电话', '更新日期'];
/** The data lines: those after the header whose first cell is a number. */
function lines(rows) {
  const at = rows.findIndex(r => r[0] === '序号');
  assert.ok(at >= 0, `no header row: ${JSON.stringify(rows.slice(0, 3))}`);
  assert.deepEqual(rows[at], HEADER);
  return rows.slice(at + 1).filter(r => /^\d+$/.test(r[0]));
}
function regionName(code) { return dbQuery(`SELECT name FROM regions WHERE code = '${code}'`)[0].name; }
function readsOfRoster(username) {
  return dbCount('read_log', `entity = 'household_roster' AND actor = '${username}'`);
}

test('a village assistant\'s roster: every household of the village, masked ids, members, one read logged', async () => {
  const v1 = await as('village1');
  const surname = uniq('册');
  const head = personInput({ relation: 'head', name: `${surname}甲`, citizen_id: citizenId({ sex: 'male' }) });
  const spouse = personInput({ relation: 'spouse', name: `${surname}乙`, citizen_id: citizenId({ sex: 'female' }) });
  const h = await createHousehold(v1, VILLAGE1, [head, spouse]);
  await createHousehold(await as('village2'), VILLAGE2);  // another village's household stays out
  const before = readsOfRoster('village1');

  const r = await roster(v1);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type'), /spreadsheetml/);
  const name = decodeURIComponent(r.headers.get('content-disposition').split("UTF-8''")[1]);
  assert.match(name, /户籍家庭花名册\d{8}\.xlsx$/);
  assert.ok(name.startsWith(regionName(VILLAGE1)), name);
  assert.equal(r.rows[0][0], `${regionName(VILLAGE1)}户籍家庭花名册`);
  const data = lines(r.rows);
  assert.equal(data.length, dbCount('households', `village_code = '${VILLAGE1}'`));
  assert.deepEqual(data.map(l => Number(l[0])), data.map((_, i) => i + 1));
  for (const l of data) {
    assert.equal(l[2], regionName(VILLAGE1));
    assert.match(l[4], /^(\d{6}\*{8}\d{3}[\dX])?$/, `an unmasked id: ${l[4]}`);
  }
  const mine = data.find(l => l[3] === head.name);
  assert.ok(mine, 'the new household is missing');
  assert.equal(mine[4], `${head.citizen_id.slice(0, 6)}********${head.citizen_id.slice(-4)}`);
  assert.equal(mine[5], '2');
  assert.equal(mine[6], `${head.name}（户主）、${spouse.name}（配偶）`);
  assert.equal(mine[8], h.residence_address);
  const text = JSON.stringify(r.rows);
  assert.ok(!text.includes(head.citizen_id) && !text.includes(spouse.citizen_id), 'a full citizen id in the roster');
  assert.ok(r.rows.some(row => row[0] === `共 ${data.length} 户。身份证号已脱敏。`), 'no count line');
  assert.equal(readsOfRoster('village1'), before + 1, 'the export is not in the read log');
});

test('the roster follows the search and the region filter, inside the scope only', async () => {
  const clerk = await as('town_clerk');
  const surname = uniq('检');
  const head = personInput({ relation: 'head', name: `${surname}户主`, citizen_id: citizenId() });
  await createHousehold(clerk, VILLAGE2, [head]);

  const found = lines((await roster(clerk, `?q=${encodeURIComponent(surname)}`)).rows);
  assert.deepEqual(found.map(l => l[3]), [head.name]);
  const byId = lines((await roster(clerk, `?q=${head.citizen_id.slice(0, 17)}`)).rows);
  assert.deepEqual(byId.map(l => l[3]), [head.name]);

  const town = await roster(clerk);
  assert.equal(town.status, 200);
  const all = lines(town.rows);
  assert.equal(all.length, dbCount('households', `town_code = '${TOWN1}'`));
  assert.ok(all.every(l => l[1] === regionName(TOWN1)));
  assert.ok(all.some(l => l[2] === regionName(VILLAGE1)) && all.some(l => l[2] === regionName(VILLAGE2)));

  const v2 = lines((await roster(clerk, `?region=${VILLAGE2}`)).rows);
  assert.equal(v2.length, dbCount('households', `village_code = '${VILLAGE2}'`));
  assert.ok(v2.every(l => l[2] === regionName(VILLAGE2)));

  // Outside the scope: the same 404 as the list; a malformed code: 400 on region.
  expectError(await clerk.get(`/households/export?region=${VILLAGE3}`), 404, 'not_found');
  expectError(await (await as('village1')).get(`/households/export?region=${VILLAGE2}`), 404, 'not_found');
  expectError(await clerk.get('/households/export?region=12345'), 400, 'invalid_argument', 'region');
  expectError(await (await as('liaison')).get('/households/export'), 403, 'permission_denied');
});

// A citizen id registered already (issue 17 #7): the 409 a write role gets must not name or
// describe a person outside the user's region scope (inside it, it names the household so the
// clerk can open it), and every collision is logged in the read log (entity
// "person_id_collision", the colliding person's id, never the citizen id) so that probing ids
// through the 409 is traceable.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, login, expectError, expectStatus, createHousehold, personInput, citizenId, uniq, runBin, dbQuery,
  sqlString, DB, PASSWORD, VILLAGE1, VILLAGE3,
} from './lib.mjs';

let far;  // {household, person, village, county} in another county (莘县 371522)

function collisionRows(actor, personId) {
  return dbQuery(`SELECT actor, entity, entity_id, region_code FROM read_log WHERE entity = 'person_id_collision' ` +
    `AND actor = ${sqlString(actor)} AND entity_id = ${sqlString(String(personId))}`);
}

before(async () => {
  const village = dbQuery("SELECT code FROM regions WHERE level = 'village' AND code LIKE '371522%' ORDER BY code LIMIT 1")[0].code;
  const clerk = uniq('sx_clerk');
  const r = runBin(['user', 'add', '--db', DB, '--username', clerk, '--password', PASSWORD, '--name', '莘县经办员',
    '--role', 'town_clerk', '--region', village.slice(0, 9)]);
  assert.equal(r.code, 0, r.stderr);
  const household = await createHousehold(await login(clerk), village);
  const person = household.members.find((m) => m.relation === 'head');
  const villageName = dbQuery(`SELECT name FROM regions WHERE code = ${sqlString(village)}`)[0].name;
  far = { household, person, village, villageName };
});

/** Asserts that a 409 body says nothing of the far person, household or region. */
function describesNothing(res) {
  const text = res.text;
  for (const s of [far.person.name, String(far.household.id), String(far.person.id), far.village, far.village.slice(0, 6),
    far.villageName, far.person.citizen_id, far.household.residence_address].filter(Boolean))
    assert.ok(!text.includes(s), `the 409 must not contain "${s}": ${text}`);
  assert.ok(!/莘县|聊城/.test(text), text);
}

test('a village assistant adding a member whose id is registered in another county: 409 naming no one, and a read-log row', async () => {
  const v1 = await as('village1');
  const mine = await createHousehold(v1, VILLAGE1);
  const res = await v1.post(`/households/${mine.id}/members`, personInput({ relation: 'child', citizen_id: far.person.citizen_id }));
  expectError(res, 409, 'conflict', 'citizen_id');
  describesNothing(res);
  const rows = collisionRows('village1', far.person.id);
  assert.deepEqual(rows.map((r) => r.region_code).sort(), [VILLAGE1, far.village].sort(),
    'logged under the person\'s region (its auditors see who tried) and the user\'s (theirs see the probing)');
  assert.equal(dbQuery(`SELECT COUNT(*) AS n FROM read_log WHERE entity_id = ${sqlString(far.person.citizen_id)}`)[0].n * 1, 0,
    'the citizen id itself is not in the log');
  assert.equal((await v1.get(`/households/${mine.id}`)).body.members.length, mine.members.length, 'nothing written');
});

test('the same on a new household and on an edited member; each try is logged', async () => {
  const v3 = await as('village3');
  const res = await v3.post('/households', {
    village_code: VILLAGE3, area: 'urban', residence_address: '测试地址', phone: '13800000000',
    members: [personInput({ relation: 'head', citizen_id: far.person.citizen_id })],
  });
  expectError(res, 409, 'conflict', 'members[0].citizen_id');
  describesNothing(res);
  assert.equal(collisionRows('village3', far.person.id).length, 2);

  const h = await createHousehold(v3, VILLAGE3);
  const head = h.members.find((m) => m.relation === 'head');
  const edit = { ...personInput({ relation: 'head', citizen_id: far.person.citizen_id, name: head.name }), version: head.version };
  const put = await v3.put(`/persons/${head.id}`, edit);
  expectError(put, 409, 'conflict', 'citizen_id');
  describesNothing(put);
  assert.equal(collisionRows('village3', far.person.id).length, 4, 'every try is logged');
});

test('inside the user\'s scope the 409 names the household (the clerk can open it); logged too', async () => {
  const clerk = await as('town_clerk');
  const a = await createHousehold(clerk, VILLAGE1);
  const b = await createHousehold(clerk, VILLAGE1);
  const taken = a.members.find((m) => m.relation === 'head');
  const res = await clerk.post(`/households/${b.id}/members`, personInput({ relation: 'child', citizen_id: taken.citizen_id }));
  const e = expectError(res, 409, 'conflict', 'citizen_id');
  assert.ok(e.message.includes(String(a.id)), `names the household in scope: ${e.message}`);
  assert.deepEqual(collisionRows('town_clerk', taken.id).map((r) => r.region_code), [VILLAGE1], 'inside the scope: one row');
  // a free id still goes in
  expectStatus(await clerk.post(`/households/${b.id}/members`, personInput({ relation: 'child', citizen_id: citizenId() })), 201);
});

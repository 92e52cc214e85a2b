// Region scope: anything outside the user's subtree answers exactly like a missing resource.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, householdInput, personInput, createHousehold, dbSnapshot,
  personsWithId, listAll, VILLAGE1, VILLAGE2, VILLAGE3, TOWN1, TOWN2,
} from './lib.mjs';

let h1, h2, h3; // households of village1, village2, village3

test('setup: one fresh household in each demo village', async () => {
  h1 = await createHousehold(await as('village1'), VILLAGE1,
    [personInput({ relation: 'head' }), personInput({ relation: 'spouse' })]);
  h2 = await createHousehold(await as('village2'), VILLAGE2,
    [personInput({ relation: 'head' }), personInput({ relation: 'child' })]);
  h3 = await createHousehold(await as('village3'), VILLAGE3);
  assert.equal(h2.town_code, TOWN1);
  assert.equal(h3.town_code, TOWN2);
});

test('village1 reading a household/person of village2 gets the same 404 as for a missing id', async () => {
  const c = await as('village1');
  const missing = await c.get('/households/987654321');
  expectError(missing, 404, 'not_found');
  const foreign = await c.get(`/households/${h2.id}`);
  expectError(foreign, 404, 'not_found');
  assert.deepEqual(foreign.body, missing.body);
  const missingP = await c.get('/persons/987654321');
  const foreignP = await c.get(`/persons/${h2.members[0].id}`);
  expectError(foreignP, 404, 'not_found');
  assert.deepEqual(foreignP.body, missingP.body);
  // village3 of another town too
  const far = await c.get(`/households/${h3.id}`);
  assert.deepEqual(far.body, missing.body);
  assert.equal(far.status, 404);
});

test('village1 cannot create a household in village2 → 404 not_found, nothing written', async () => {
  const c = await as('village1');
  const input = householdInput(VILLAGE2);
  const before = dbSnapshot();
  const res = await c.post('/households', input);
  expectError(res, 404, 'not_found');
  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(input.members[0].citizen_id), 0);
  // nor in another town's village
  const input3 = householdInput(VILLAGE3);
  expectError(await c.post('/households', input3), 404, 'not_found');
  assert.deepEqual(dbSnapshot(), before);
});

test('village1 cannot update village2 household or add/update/delete its members', async () => {
  const c = await as('village1');
  const before = dbSnapshot();
  const { members, ...rest } = householdInput(VILLAGE2);
  const missing = await c.put('/households/987654321', { ...rest, version: 1 });
  const put = await c.put(`/households/${h2.id}`, { ...rest, version: h2.version });
  expectError(put, 404, 'not_found');
  assert.deepEqual(put.body, missing.body);
  // moving own household into village2 is writing outside the scope too
  const move = await c.put(`/households/${h1.id}`, { ...householdInput(VILLAGE2), members: undefined, version: h1.version });
  expectError(move, 404, 'not_found');

  const newcomer = personInput({ relation: 'child' });
  expectError(await c.post(`/households/${h2.id}/members`, newcomer), 404, 'not_found');
  const member = h2.members.find(m => m.relation === 'child');
  const upd = await c.put(`/persons/${member.id}`, { ...personInput({ relation: 'child', citizen_id: member.citizen_id }), version: member.version });
  expectError(upd, 404, 'not_found');
  const del = await c.del(`/persons/${member.id}?version=${member.version}`);
  expectError(del, 404, 'not_found');
  const delMissing = await c.del(`/persons/987654321?version=1`);
  assert.deepEqual(del.body, delMissing.body);

  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(newcomer.citizen_id), 0);
  // village2 still sees its household untouched
  const v2 = await as('village2');
  const got = expectStatus(await v2.get(`/households/${h2.id}`), 200);
  assert.deepEqual(got, h2);
  const own = expectStatus(await c.get(`/households/${h1.id}`), 200);
  assert.equal(own.village_code, VILLAGE1);
  assert.equal(own.version, h1.version);
});

test('village list shows only own village', async () => {
  for (const [user, village] of [['village1', VILLAGE1], ['village2', VILLAGE2], ['village3', VILLAGE3]]) {
    const items = await listAll(await as(user), '/households');
    assert.ok(items.length > 0, user);
    for (const i of items) assert.equal(i.village_code, village, `${user} sees ${i.id}`);
  }
});

test('town_clerk sees all and only households of villages of 乔官镇', async () => {
  const items = await listAll(await as('town_clerk'), '/households');
  const ids = new Set(items.map(i => String(i.id)));
  for (const i of items) assert.ok(i.village_code.startsWith(TOWN1), `town_clerk sees ${i.village_code}`);
  assert.ok(ids.has(String(h1.id)), 'village1 household missing');
  assert.ok(ids.has(String(h2.id)), 'village2 household missing');
  assert.ok(!ids.has(String(h3.id)));
  // the union of the two villages is included
  const v1 = await listAll(await as('village1'), '/households');
  const v2 = await listAll(await as('village2'), '/households');
  for (const i of [...v1, ...v2]) assert.ok(ids.has(String(i.id)), `town list lacks ${i.id}`);
  // region narrows inside the scope
  const narrowed = await listAll(await as('town_clerk'), `/households?region=${VILLAGE2}`);
  assert.ok(narrowed.some(i => String(i.id) === String(h2.id)));
  for (const i of narrowed) assert.equal(i.village_code, VILLAGE2);
  assert.equal(narrowed.length, v2.length);
  // town_clerk reads a household of its town
  expectStatus(await (await as('town_clerk')).get(`/households/${h2.id}`), 200);
});

test('town2_clerk does not see 乔官镇 households', async () => {
  const c = await as('town2_clerk');
  const items = await listAll(c, '/households');
  for (const i of items) assert.ok(i.village_code.startsWith(TOWN2), `town2_clerk sees ${i.village_code}`);
  const ids = new Set(items.map(i => String(i.id)));
  assert.ok(!ids.has(String(h1.id)) && !ids.has(String(h2.id)));
  assert.ok(ids.has(String(h3.id)));
  expectError(await c.get(`/households/${h1.id}`), 404, 'not_found');
  const q = await c.get(`/households?q=${h1.members[0].citizen_id}`);
  assert.equal(expectStatus(q, 200).total, 0);
});

test('search by the citizen id or name of another village\'s member returns nothing for a village user', async () => {
  const c = await as('village1');
  for (const q of [h3.members[0].citizen_id, h2.members[0].citizen_id, h2.members[0].citizen_id.slice(0, 14), h3.members[0].name]) {
    const page = expectStatus(await c.get(`/households?q=${encodeURIComponent(q)}&page_size=200`), 200);
    const ids = page.items.map(i => String(i.id));
    assert.ok(!ids.includes(String(h2.id)) && !ids.includes(String(h3.id)), `q=${q} leaks`);
    for (const i of page.items) assert.equal(i.village_code, VILLAGE1);
  }
  const exact = expectStatus(await c.get(`/households?q=${h3.members[0].citizen_id}`), 200);
  assert.equal(exact.total, 0);
  assert.deepEqual(exact.items, []);
});

test('a region filter outside the scope yields nothing', async () => {
  const c = await as('village1');
  const res = await c.get(`/households?region=${VILLAGE2}`);
  if (res.status === 200) {
    assert.equal(res.body.total, 0);
    assert.deepEqual(res.body.items, []);
  } else {
    expectError(res, 404, 'not_found');
  }
  const t = await (await as('town2_clerk')).get(`/households?region=${TOWN1}`);
  if (t.status === 200) assert.equal(t.body.total, 0);
  else expectError(t, 404, 'not_found');
});

test('county users see all towns; supervisor reads but cannot write', async () => {
  const admin = await listAll(await as('admin'), '/households');
  const ids = new Set(admin.map(i => String(i.id)));
  for (const h of [h1, h2, h3]) assert.ok(ids.has(String(h.id)));
  const sup = await as('supervisor');
  expectStatus(await sup.get(`/households/${h3.id}`), 200);
  const page = expectStatus(await sup.get('/households'), 200);
  assert.ok(page.total >= 3);
  const input = householdInput(VILLAGE1);
  const before = dbSnapshot();
  expectError(await sup.post('/households', input), 403, 'permission_denied');
  const { members, ...rest } = householdInput(VILLAGE1);
  expectError(await sup.put(`/households/${h1.id}`, { ...rest, version: h1.version }), 403, 'permission_denied');
  expectError(await sup.post(`/households/${h1.id}/members`, personInput({ relation: 'child' })), 403, 'permission_denied');
  const m = h1.members[1];
  expectError(await sup.del(`/persons/${m.id}?version=${m.version}`), 403, 'permission_denied');
  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(input.members[0].citizen_id), 0);
});

test('auditor reads the registry but cannot write it', async () => {
  const c = await as('auditor');
  expectStatus(await c.get(`/households/${h1.id}`), 200);
  const before = dbSnapshot();
  expectError(await c.post('/households', householdInput(VILLAGE1)), 403, 'permission_denied');
  assert.deepEqual(dbSnapshot(), before);
});

test('department liaison may not read the registry → 403', async () => {
  const c = await as('liaison');
  expectError(await c.get('/households'), 403, 'permission_denied');
  expectError(await c.get(`/households/${h1.id}`), 403, 'permission_denied');
  expectError(await c.get(`/persons/${h1.members[0].id}`), 403, 'permission_denied');
  const before = dbSnapshot();
  expectError(await c.post('/households', householdInput(VILLAGE1)), 403, 'permission_denied');
  assert.deepEqual(dbSnapshot(), before);
});

test('town and county writers can write inside their scope', async () => {
  const tc = await as('town_clerk');
  const a = await createHousehold(tc, VILLAGE2);
  assert.equal(a.village_code, VILLAGE2);
  expectError(await tc.post('/households', householdInput(VILLAGE3)), 404, 'not_found');
  const tr = await as('town_reviewer');
  assert.equal((await createHousehold(tr, VILLAGE1)).village_code, VILLAGE1);
  expectError(await tr.post('/households', householdInput(VILLAGE3)), 404, 'not_found');
  const rv = await as('reviewer');
  const b = await createHousehold(rv, VILLAGE3);
  assert.equal(b.town_code, TOWN2);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  login, expectError, householdInput, personInput, dbSnapshot, personsWithId, VILLAGE1,
  createHousehold,
} from './lib.mjs';

async function searchCount(c, q) {
  const res = await c.get(`/households?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200, res.text);
  return res.body.total;
}

test('POST /households without X-CSRF-Token → 403 csrf_failed, nothing written', async () => {
  const c = await login('village1');
  const input = householdInput(VILLAGE1);
  const id = input.members[0].citizen_id;
  const before = dbSnapshot();
  expectError(await c.post('/households', input, { csrf: false }), 403, 'csrf_failed');
  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(id), 0);
  assert.equal(await searchCount(c, id), 0);
});

test('POST /households with a wrong or foreign X-CSRF-Token → 403 csrf_failed, nothing written', async () => {
  const c = await login('village1');
  const other = await login('village1'); // second session of the same user
  assert.notEqual(other.csrf, c.csrf, 'each session must get its own csrf token');
  const input = householdInput(VILLAGE1);
  const id = input.members[0].citizen_id;
  const before = dbSnapshot();
  expectError(await c.post('/households', input, { csrf: 'x' + c.csrf.slice(1) + 'y' }), 403, 'csrf_failed');
  expectError(await c.post('/households', input, { csrf: '' }), 403, 'csrf_failed');
  expectError(await c.post('/households', input, { csrf: other.csrf }), 403, 'csrf_failed');
  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(id), 0);
  // control: the right token works
  const res = await c.post('/households', input);
  assert.equal(res.status, 201, res.text);
  assert.equal(personsWithId(id), 1);
});

test('PUT, PATCH and DELETE also require the token', async () => {
  const c = await login('village1');
  const h = await createHousehold(c, VILLAGE1);
  const { members, ...rest } = householdInput(VILLAGE1);
  const admin = await login('admin');
  const town = (await admin.get('/regions/370725107')).body;
  const before = dbSnapshot();
  expectError(await c.put(`/households/${h.id}`, { ...rest, version: h.version }, { csrf: false }), 403, 'csrf_failed');
  const head = h.members[0];
  expectError(await c.del(`/persons/${head.id}?version=${head.version}`, { csrf: false }), 403, 'csrf_failed');
  expectError(await c.post(`/households/${h.id}/members`, personInput({ relation: 'child' }), { csrf: false }), 403, 'csrf_failed');
  expectError(await admin.patch('/regions/370725107', { population: 12345, version: town.version }, { csrf: false }), 403, 'csrf_failed');
  assert.deepEqual(dbSnapshot(), before);
  const after = await c.get(`/households/${h.id}`);
  assert.equal(after.body.version, h.version);
  assert.equal(after.body.residence_address, h.residence_address);
  assert.equal((await admin.get('/regions/370725107')).body.version, town.version);
  // logout without the token is refused and the session survives
  expectError(await c.del('/session', { csrf: false }), 403, 'csrf_failed');
  assert.equal((await c.get('/session')).status, 200);
});

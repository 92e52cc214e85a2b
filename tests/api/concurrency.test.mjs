// Optimistic concurrency and uniqueness under parallel requests (same on both databases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, login, expectError, expectStatus, createHousehold, householdInput, personInput, citizenId,
  dbCount, dbSnapshot, personsWithId, auditRowsFor, T, VILLAGE1, VILLAGE2, VILLAGE3,
} from './lib.mjs';

const N = 6;

// The sessions are opened one after another: what runs in parallel below is the requests under
// test. (Parallel logins of one name are the lockout's concern, tested in identification.test.mjs;
// here, on a loaded machine, six concurrent password checks of one name can outlast the short
// wait a try makes for the others and answer 423.)
async function loginEach(names) {
  const clients = [];
  for (const name of names) clients.push(await login(name));
  return clients;
}

test('parallel PUTs with the same version: exactly one wins, the rest get 409', async () => {
  const clients = await loginEach(Array.from({ length: N }, () => 'village1'));
  const h = await createHousehold(clients[0], VILLAGE1);
  const auditBefore = auditRowsFor('%household%', h.id).length;
  const results = await Promise.all(clients.map((c, i) => {
    const { members, ...input } = householdInput(VILLAGE1);
    input.residence_address = `并发地址 ${i}`;
    return c.put(`/households/${h.id}`, { ...input, version: h.version });
  }));
  const ok = results.filter(r => r.status === 200);
  assert.equal(ok.length, 1, `statuses: ${results.map(r => r.status)}`);
  for (const r of results.filter(r => r.status !== 200)) expectError(r, 409, 'version_conflict');
  const got = expectStatus(await clients[0].get(`/households/${h.id}`), 200);
  assert.equal(got.version, h.version + 1);
  assert.equal(got.residence_address, ok[0].body.residence_address);
  assert.equal(auditRowsFor('%household%', h.id).length, auditBefore + 1, 'one audit row per successful update');
});

test('parallel member edits with the same version: exactly one wins', async () => {
  const clients = await loginEach(Array.from({ length: N }, () => 'village1'));
  const h = await createHousehold(clients[0], VILLAGE1);
  const p = h.members[0];
  const results = await Promise.all(clients.map((c, i) => c.put(`/persons/${p.id}`, {
    ...personInput({ relation: 'head', citizen_id: p.citizen_id, name: p.name }),
    monthly_income_fen: { wage: 1000 + i, business: 0, property: 0, transfer: 0, pension: 0, other: 0 },
    version: p.version,
  })));
  assert.equal(results.filter(r => r.status === 200).length, 1, `statuses: ${results.map(r => r.status)}`);
  for (const r of results.filter(r => r.status !== 200)) expectError(r, 409, 'version_conflict');
  const got = expectStatus(await clients[0].get(`/persons/${p.id}`), 200);
  assert.equal(got.version, p.version + 1);
});

test('parallel creates with the same citizen id: exactly one 201, the rest 409 conflict', async () => {
  const users = ['village1', 'village2', 'town_clerk', 'admin', 'reviewer', 'town_reviewer'];
  const clients = await loginEach(users);
  const id = citizenId();
  const before = dbSnapshot();
  const results = await Promise.all(clients.map((c, i) => c.post('/households',
    householdInput(i % 2 ? VILLAGE2 : VILLAGE1, [personInput({ citizen_id: id })]))));
  const created = results.filter(r => r.status === 201);
  assert.equal(created.length, 1, `statuses: ${results.map(r => `${r.status} ${r.body?.error?.code ?? ''}`)}`);
  for (const r of results.filter(r => r.status !== 201)) expectError(r, 409, 'conflict');
  assert.equal(personsWithId(id), 1);
  const after = dbSnapshot();
  assert.equal(after.households, before.households + 1);
  assert.equal(after.persons, before.persons + 1);
});

test('parallel creates across villages all succeed and keep the audit chain intact', async () => {
  const plan = [['village1', VILLAGE1], ['village2', VILLAGE2], ['village3', VILLAGE3], ['town_clerk', VILLAGE1],
    ['town2_clerk', VILLAGE3], ['admin', VILLAGE2], ['reviewer', VILLAGE1], ['village1', VILLAGE1]];
  const clients = await loginEach(plan.map(([u]) => u));
  const auditBefore = dbCount(T.audit);
  const results = await Promise.all(plan.map(([, v], i) => clients[i].post('/households',
    householdInput(v, [personInput({ relation: 'head' }), personInput({ relation: 'child' })]))));
  for (const r of results) assert.equal(r.status, 201, r.text);
  assert.equal(new Set(results.map(r => String(r.body.id))).size, plan.length);
  assert.ok(dbCount(T.audit) >= auditBefore + plan.length);
  const v = expectStatus(await (await as('auditor')).get('/audit/verify'), 200);
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.equal(v.entries, dbCount(T.audit));
});

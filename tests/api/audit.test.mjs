import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, createHousehold, householdInput, personInput, dbCount, dbQuery,
  auditRowsFor, auditJson, ISO_TS, VILLAGE1, T, sqlString,
} from './lib.mjs';

async function findAudit(c, id) {
  // newest entries come first; our entry is recent
  for (let page = 1; page <= 20; page++) {
    const body = expectStatus(await c.get(`/audit?page=${page}&page_size=200`), 200);
    const e = body.items.find(x => String(x.id) === String(id));
    if (e) return e;
    if (body.items.length === 0) break;
  }
  return undefined;
}

let h; // household created by village1

test('creating a household writes an audit entry with actor, entity and after', async () => {
  const v1 = await as('village1');
  const auditBefore = dbCount(T.audit);
  h = await createHousehold(v1, VILLAGE1, [personInput({ relation: 'head' }), personInput({ relation: 'spouse' })]);
  assert.ok(dbCount(T.audit) > auditBefore, 'no audit row written');
  const rows = auditRowsFor('%household%', h.id);
  assert.ok(rows.length >= 1, 'no audit row for the household');
  const row = rows[0];
  assert.equal(row.actor, 'village1');
  assert.equal(row.region_code, VILLAGE1);
  const auditor = await as('auditor');
  const e = await findAudit(auditor, row.id);
  assert.ok(e, `audit entry ${row.id} not listed by GET /audit`);
  for (const k of ['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'region_code', 'before', 'after', 'hash']) assert.ok(k in e, `entry lacks ${k}`);
  assert.equal(e.actor, 'village1');
  assert.equal(e.entity, row.entity);
  assert.equal(String(e.entity_id), String(h.id));
  assert.equal(e.region_code, VILLAGE1);
  assert.match(e.at, ISO_TS);
  assert.match(e.hash, /^[0-9a-f]{64}$/);
  assert.equal(e.hash, row.hash);
  const before = auditJson(e.before);
  assert.ok(before === null || (typeof before === 'object' && Object.keys(before).length === 0), `before of a create: ${JSON.stringify(e.before)}`);
  const after = auditJson(e.after);
  assert.equal(typeof after, 'object');
  const text = JSON.stringify(after);
  assert.ok(text.includes(VILLAGE1), 'after lacks the village code');
  assert.ok(text.includes(h.residence_address), 'after lacks the address');
  // members are audited too (in the household entry or as person entries)
  const memberAudited = h.members.every(m => text.includes(m.citizen_id) || auditRowsFor('%person%', m.id).length > 0);
  assert.ok(memberAudited, 'member creation not audited');
});

test('updating a household audits before and after', async () => {
  const v1 = await as('village1');
  const { members, ...input } = householdInput(VILLAGE1);
  input.residence_address = '审计更新地址 1 号';
  const u = expectStatus(await v1.put(`/households/${h.id}`, { ...input, version: h.version }), 200);
  const rows = auditRowsFor('%household%', h.id);
  assert.equal(rows.length >= 2, true);
  const last = rows[rows.length - 1];
  assert.notEqual(last.action, rows[0].action, 'create and update share an action name');
  const e = await findAudit(await as('auditor'), last.id);
  assert.ok(e);
  assert.ok(JSON.stringify(auditJson(e.before)).includes(h.residence_address), 'before lacks old address');
  assert.ok(JSON.stringify(auditJson(e.after)).includes(u.residence_address), 'after lacks new address');
  assert.equal(e.actor, 'village1');
});

test('member add/delete are audited; a rejected write is not', async () => {
  const v1 = await as('village1');
  const p = expectStatus(await v1.post(`/households/${h.id}/members`, personInput({ relation: 'child' })), 201);
  const n1 = dbCount(T.audit);
  expectError(await v1.del(`/persons/${p.id}?version=${p.version + 5}`), 409, 'version_conflict');
  assert.equal(dbCount(T.audit), n1, 'a failed delete wrote an audit row');
  expect204(await v1.del(`/persons/${p.id}?version=${p.version}`));
  assert.ok(dbCount(T.audit) > n1, 'delete not audited');
  const entries = dbQuery(`SELECT * FROM ${T.audit} WHERE entity_id = ${sqlString(String(p.id))} AND entity LIKE '%person%' ORDER BY id`);
  assert.ok(entries.length >= 2, 'person add + delete: expected 2 audit rows');
});

function expect204(res) { assert.equal(res.status, 204, res.text); }

test('audit filters: entity and actor', async () => {
  const auditor = await as('auditor');
  const entity = auditRowsFor('%household%', h.id)[0].entity;
  const byEntity = expectStatus(await auditor.get(`/audit?entity=${encodeURIComponent(entity)}&page_size=50`), 200);
  assert.ok(byEntity.items.length > 0);
  for (const e of byEntity.items) assert.equal(e.entity, entity);
  assert.ok(byEntity.total <= dbCount(T.audit));
  assert.equal(byEntity.total, dbCount(T.audit, `entity = ${sqlString(entity)} AND region_code LIKE '370725%'`));
  const byActor = expectStatus(await auditor.get('/audit?actor=village1&page_size=50'), 200);
  assert.ok(byActor.items.length > 0);
  for (const e of byActor.items) assert.equal(e.actor, 'village1');
  assert.equal(byActor.total, dbCount(T.audit, `actor = 'village1'`));
  const page = expectStatus(await auditor.get('/audit?page=1&page_size=3'), 200);
  assert.equal(page.page, 1); assert.equal(page.page_size, 3);
  // every entry about the county is visible to its auditor (other counties' may be hidden)
  assert.ok(page.total <= dbCount(T.audit));
  assert.ok(page.total >= dbCount(T.audit, `region_code LIKE '370725%'`));
  const ids = page.items.map(e => Number(e.id));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] > ids[i], 'audit not newest first');
});

test('GET of a household and of a person lands in the read log', async () => {
  const v1 = await as('village1');
  const readsBefore = dbCount('read_log');
  expectStatus(await v1.get(`/households/${h.id}`), 200);
  expectStatus(await v1.get(`/persons/${h.members[0].id}`), 200);
  assert.equal(dbCount('read_log'), readsBefore + 2, 'expected exactly two read-log rows');
  const auditor = await as('auditor');
  const body = expectStatus(await auditor.get('/audit/reads?page=1&page_size=50'), 200);
  assert.ok(body.total >= 2);
  const [p, hh] = body.items; // newest first
  for (const e of body.items.slice(0, 2)) {
    for (const k of ['id', 'at', 'actor', 'entity', 'entity_id', 'region_code']) assert.ok(k in e, `read entry lacks ${k}`);
    assert.equal(e.actor, 'village1');
    assert.equal(e.region_code, VILLAGE1);
    assert.match(e.at, ISO_TS);
  }
  assert.equal(String(hh.entity_id), String(h.id));
  assert.match(hh.entity, /household/);
  assert.equal(String(p.entity_id), String(h.members[0].id));
  assert.match(p.entity, /person/);
  // a denied read (outside scope) is not an actual read of the data
  const v2 = await as('village2');
  const n = dbCount('read_log');
  expectError(await v2.get(`/households/${h.id}`), 404, 'not_found');
  assert.equal(dbCount('read_log'), n);
});

test('audit access: auditor, admin, supervisor yes; others 403', async () => {
  for (const u of ['auditor', 'admin', 'supervisor']) {
    const c = await as(u);
    expectStatus(await c.get('/audit'), 200, u);
    expectStatus(await c.get('/audit/reads'), 200, u);
    expectStatus(await c.get('/audit/verify'), 200, u);
  }
  for (const u of ['village1', 'town_clerk', 'reviewer', 'liaison', 'town_reviewer']) {
    const c = await as(u);
    expectError(await c.get('/audit'), 403, 'permission_denied');
    expectError(await c.get('/audit/reads'), 403, 'permission_denied');
    expectError(await c.get('/audit/verify'), 403, 'permission_denied');
  }
});

test('GET /audit/verify on an untouched log → ok true with the entry count', async () => {
  const body = expectStatus(await (await as('auditor')).get('/audit/verify'), 200);
  assert.equal(body.ok, true, JSON.stringify(body));
  assert.equal(body.entries, dbCount(T.audit));
  assert.ok(!('first_broken_id' in body) || body.first_broken_id === null);
});

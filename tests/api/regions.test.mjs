import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { as, expectError, expectStatus, dbQuery, TOWN1, TOWN2, VILLAGE1 } from './lib.mjs';

function checkRegion(r) {
  for (const k of ['code', 'parent_code', 'level', 'name', 'population', 'version']) assert.ok(k in r, `Region lacks ${k}`);
  assert.equal(typeof r.population, 'number');
  assert.equal(typeof r.version, 'number');
}

test('GET /regions?parent=370725 lists the towns with real names', async () => {
  const c = await as('admin');
  const res = await c.get('/regions?parent=370725');
  const body = expectStatus(res, 200);
  assert.ok(Array.isArray(body.items));
  const byCode = Object.fromEntries(body.items.map(r => [r.code, r]));
  for (const r of body.items) {
    checkRegion(r);
    assert.equal(r.level, 'town');
    assert.equal(r.parent_code, '370725');
    assert.match(r.code, /^370725\d{3}$/);
  }
  assert.equal(byCode['370725107']?.name, '乔官镇');
  assert.equal(byCode['370725001']?.name, '宝都街道');
  assert.equal(byCode['370725108']?.name, '鄌郚镇');
  assert.equal(body.items.length, 8);
  // default parent: the user's own region
  const def = expectStatus(await c.get('/regions'), 200);
  assert.deepEqual(def.items.map(r => r.code).sort(), body.items.map(r => r.code).sort());
});

test('GET /regions?parent=TOWN lists villages; GET /regions/{code} has the path', async () => {
  const c = await as('town_clerk');
  const body = expectStatus(await c.get(`/regions?parent=${TOWN1}`), 200);
  const codes = body.items.map(r => r.code);
  assert.ok(codes.includes(VILLAGE1));
  assert.ok(codes.includes('370725107206'));
  for (const r of body.items) { assert.equal(r.level, 'village'); assert.equal(r.parent_code, TOWN1); }
  const v = expectStatus(await c.get(`/regions/${VILLAGE1}`), 200);
  checkRegion(v);
  assert.equal(v.level, 'village');
  assert.match(v.name, /乔南/);
  assert.ok(Array.isArray(v.path), 'path');
  const names = v.path.map(p => (typeof p === 'string' ? p : p.name));
  assert.deepEqual(names.slice(0, 2), ['昌乐县', '乔官镇']);
  assert.equal(names.length, 3);
  assert.equal(names[2], v.name);
});

test('admin PATCH a town population with version; stale version → 409, row unchanged', async () => {
  const c = await as('admin');
  const town = expectStatus(await c.get(`/regions/${TOWN2}`), 200);
  assert.equal(town.name, '宝都街道');
  const population = randomInt(10000, 200000);
  const u = expectStatus(await c.patch(`/regions/${TOWN2}`, { population, version: town.version }), 200, 'patch');
  checkRegion(u);
  assert.equal(u.population, population);
  assert.equal(u.version, town.version + 1);
  assert.equal(u.name, town.name);
  const again = expectStatus(await c.get(`/regions/${TOWN2}`), 200);
  assert.equal(again.population, population);
  assert.equal(again.version, u.version);
  // stale
  expectError(await c.patch(`/regions/${TOWN2}`, { population: population + 1, version: town.version }), 409, 'version_conflict');
  const rows = dbQuery(`SELECT population, version FROM regions WHERE code = '${TOWN2}'`);
  assert.equal(Number(rows[0].population), population);
  assert.equal(Number(rows[0].version), u.version);
  // listed with the new population
  const list = expectStatus(await c.get('/regions?parent=370725'), 200);
  assert.equal(list.items.find(r => r.code === TOWN2).population, population);
});

test('PATCH region: bad input → 400, non-admin → 403, unknown code → 404, village → refused', async () => {
  const admin = await as('admin');
  const town = expectStatus(await admin.get(`/regions/${TOWN1}`), 200);
  expectError(await admin.patch(`/regions/${TOWN1}`, { population: 'many', version: town.version }), 400, 'invalid_argument', 'population');
  expectError(await admin.patch(`/regions/${TOWN1}`, { population: -1, version: town.version }), 400, 'invalid_argument', 'population');
  expectError(await admin.patch(`/regions/${TOWN1}`, { population: 5 }), 400, 'invalid_argument', 'version');
  expectError(await admin.request('PATCH', `/regions/${TOWN1}`, { raw: '{"population":' }), 400, 'malformed_json');
  for (const u of ['town_clerk', 'reviewer', 'supervisor', 'village1']) {
    expectError(await (await as(u)).patch(`/regions/${TOWN1}`, { population: 1, version: town.version }), 403, 'permission_denied');
  }
  expectError(await admin.patch('/regions/370725199', { population: 1, version: 1 }), 404, 'not_found');
  expectError(await admin.get('/regions/370725199'), 404, 'not_found');
  const vil = expectStatus(await admin.get(`/regions/${VILLAGE1}`), 200);
  const r = await admin.patch(`/regions/${VILLAGE1}`, { population: 1, version: vil.version });
  assert.ok(r.status >= 400 && r.status < 500, `village patch: ${r.status}`);
  expectError(r, r.status);
  const after = expectStatus(await admin.get(`/regions/${TOWN1}`), 200);
  assert.equal(after.version, town.version);
  assert.equal(after.population, town.population);
  assert.equal(expectStatus(await admin.get(`/regions/${VILLAGE1}`), 200).version, vil.version);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, DB_KIND, VILLAGE1, dbSnapshot, expectError, householdInput, login } from './lib.mjs';

test('GET /health answers ok with the database kind, without login', async () => {
  const res = await new Client().get('/health');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
  assert.deepEqual(res.body, { status: 'ok', db: DB_KIND });
});

test('unknown route answers 404 not_found as JSON', async () => {
  const c = new Client();
  for (const path of ['/api/v1/nope', '/api/v1/households/1/nope', '/api/v2/health']) {
    const res = await c.get(path);
    assert.match(res.headers.get('content-type') || '', /application\/json/, path);
    expectError(res, 404, 'not_found');
  }
});

test('a write to an unknown route answers 404 not_found and writes nothing', async () => {
  const clerk = await login('village1');
  const before = dbSnapshot();
  for (const path of ['/nope', '/households/1/nope', '/api/v1/household']) {
    const res = await clerk.post(path, householdInput(VILLAGE1));
    assert.match(res.headers.get('content-type') || '', /application\/json/, path);
    expectError(res, 404, 'not_found');
  }
  expectError(await clerk.put('/households/1/members/nope', { name: '张三' }), 404, 'not_found');
  assert.deepEqual(dbSnapshot(), before);
});

test('known path with a wrong method answers 405 method_not_allowed', async () => {
  const admin = await login('admin');
  expectError(await admin.del('/households'), 405, 'method_not_allowed');
  expectError(await admin.post('/audit/verify', {}), 405, 'method_not_allowed');
  expectError(await admin.request('DELETE', '/health'), 405, 'method_not_allowed');
});

test('registry endpoints need a session: 401 unauthenticated', async () => {
  const c = new Client();
  expectError(await c.get('/households'), 401, 'unauthenticated');
  expectError(await c.get('/regions?parent=370725'), 401, 'unauthenticated');
  expectError(await c.get('/audit'), 401, 'unauthenticated');
  expectError(await c.get('/users'), 401, 'unauthenticated');
});

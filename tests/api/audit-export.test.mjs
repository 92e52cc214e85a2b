// Issue 17: the auditor's reads of the audit trail are themselves logged (#14: an entry's
// before/after hold full citizen ids), and the auditor can export the audit log to Excel
// (level-3 audit control), with the list's filters and a row limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, createHousehold, personInput, dbQuery, downloadXlsx, sqlString, T, VILLAGE1,
} from './lib.mjs';

function readsOf(actor, entity, afterId) {
  return dbQuery(`SELECT * FROM read_log WHERE actor = ${sqlString(actor)} AND entity = ${sqlString(entity)}
    AND id > ${Number(afterId)} ORDER BY id`);
}
function lastReadId() { return Number(dbQuery('SELECT COALESCE(MAX(id), 0) AS n FROM read_log')[0].n); }

let h; // a household whose members' full ids are in its audit entry
test('setup: a household with a member', async () => {
  const v1 = await as('village1');
  h = await createHousehold(v1, VILLAGE1, [personInput({ relation: 'head' })]);
});

/** The read-log key of a read of audit entries: lowest-highest id, then the filters. */
function keyOf(ids, filters = '') { return `${Math.min(...ids)}-${Math.max(...ids)}${filters}`; }

test('GET /audit logs the read of the entries it shows (entries hold full citizen ids)', async () => {
  const auditor = await as('auditor');
  const before = lastReadId();
  const body = expectStatus(await auditor.get('/audit?entity=household&page_size=3'), 200);
  assert.equal(body.items.length, 3);
  assert.ok(body.items.some(e => JSON.stringify(e.after).includes(h.members[0].citizen_id)), 'a full id is shown');
  const logged = readsOf('auditor', 'audit_log', before);
  assert.equal(logged.length, 1, JSON.stringify(logged));
  assert.equal(logged[0].entity_id, keyOf(body.items.map(e => Number(e.id)), ' entity=household'));
  assert.equal(logged[0].region_code, auditor.user.region_code);
  // the key names exactly the entries read: those of the filter in that id range
  const [lo, hi] = logged[0].entity_id.split(' ')[0].split('-').map(Number);
  const inRange = dbQuery(`SELECT id FROM ${T.audit} WHERE entity = 'household' AND region_code LIKE '370725%'
    AND id BETWEEN ${lo} AND ${hi} ORDER BY id DESC`).map(r => String(r.id));
  assert.deepEqual(inRange, body.items.map(e => String(e.id)));
  // an empty page reads nothing
  const n = lastReadId();
  expectStatus(await auditor.get('/audit?actor=nobody-at-all'), 200);
  assert.equal(lastReadId(), n);
});

test('GET /audit/reads is itself logged: no one reads the read log unseen', async () => {
  const admin = await as('admin');
  const before = lastReadId();
  const body = expectStatus(await admin.get('/audit/reads?page_size=5'), 200);
  assert.ok(body.items.length > 0);
  const logged = readsOf('admin', 'read_log', before);
  assert.equal(logged.length, 1, JSON.stringify(logged));
  const ids = body.items.map(r => Number(r.id));
  assert.equal(logged[0].entity_id, `${Math.min(...ids)}-${Math.max(...ids)}`);
});

test('GET /audit/export: the filtered entries as a workbook, newest first, the export read-logged', async () => {
  const auditor = await as('auditor');
  const before = lastReadId();
  const x = await downloadXlsx(auditor, '/audit/export?entity=household&limit=4');
  assert.equal(x.status, 200, JSON.stringify(x.body));
  assert.match(x.headers.get('content-type'), /spreadsheetml/);
  assert.match(x.headers.get('content-disposition'), /attachment/);
  const header = x.rows.findIndex(r => r[0] === '编号');
  assert.ok(header >= 0, `no header row in ${JSON.stringify(x.rows.slice(0, 3))}`);
  assert.deepEqual(x.rows[header], ['编号', '时间', '操作人', '操作', '对象', '对象编号', '区划代码', '修改前', '修改后', '哈希']);
  const data = x.rows.slice(header + 1).filter(r => /^\d+$/.test(r[0]));
  const expected = dbQuery(`SELECT * FROM ${T.audit} WHERE entity = 'household' AND region_code LIKE '370725%' ORDER BY id DESC LIMIT 4`);
  assert.equal(data.length, 4);
  data.forEach((r, i) => {
    const e = expected[i];
    assert.equal(r[0], String(e.id));
    assert.equal(r[1], e.at);
    assert.equal(r[2], e.actor);
    assert.equal(r[3], e.action);
    assert.equal(r[4], 'household');
    assert.equal(r[5], String(e.entity_id));
    assert.equal(r[6], e.region_code);
    assert.equal(r[8], e.after_json);
    assert.equal(r[9], e.hash);
  });
  // the household of setup is among them, with its member's full id (the export is personal data)
  const mine = data.find(r => r[5] === String(h.id));
  assert.ok(mine, 'the newest household entry is exported');
  assert.ok(mine[8].includes(h.members[0].citizen_id));
  const logged = readsOf('auditor', 'audit_export', before);
  assert.equal(logged.length, 1, JSON.stringify(logged));
  assert.equal(logged[0].entity_id, keyOf(data.map(r => Number(r[0])), ' entity=household'));
  assert.match(x.text, /导出人/);
});

test('GET /audit/export: actor filter, row limit checked, only audit roles', async () => {
  const auditor = await as('auditor');
  const x = await downloadXlsx(auditor, '/audit/export?actor=village1&limit=2');
  assert.equal(x.status, 200);
  const header = x.rows.findIndex(r => r[0] === '编号');
  const data = x.rows.slice(header + 1).filter(r => /^\d+$/.test(r[0]));
  assert.equal(data.length, 2);
  for (const r of data) assert.equal(r[2], 'village1');
  for (const bad of ['0', '10001', 'abc', '-1']) expectError(await auditor.get(`/audit/export?limit=${bad}`), 400, 'invalid_argument', 'limit');
  for (const u of ['village1', 'town_clerk', 'reviewer']) {
    expectError(await (await as(u)).get('/audit/export'), 403, 'permission_denied');
  }
  const sup = await downloadXlsx(await as('supervisor'), '/audit/export?limit=1');
  assert.equal(sup.status, 200);
});

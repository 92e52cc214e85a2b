// Tampering with the audit table directly in the database must be detected by both
// GET /audit/verify and `doudi audit verify`. Each test restores the row afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectStatus, createHousehold, householdInput, personInput, dbQuery, dbExec, dbCount,
  auditRowsFor, runBin, sqlString, DB, T, VILLAGE1,
} from './lib.mjs';

async function verifyApi() {
  return expectStatus(await (await as('auditor')).get('/audit/verify'), 200, 'verify');
}

function verifyCli() {
  return runBin(['audit', 'verify', '--db', DB]);
}

async function expectClean() {
  const v = await verifyApi();
  assert.equal(v.ok, true, `verify: ${JSON.stringify(v)}`);
  assert.equal(v.entries, dbCount(T.audit));
  const cli = verifyCli();
  assert.equal(cli.code, 0, `cli verify: ${cli.code} ${cli.stdout} ${cli.stderr}`);
}

async function expectBroken(ids) {
  const v = await verifyApi();
  assert.equal(v.ok, false, `tampering not detected: ${JSON.stringify(v)}`);
  assert.ok(ids.map(String).includes(String(v.first_broken_id)), `first_broken_id ${v.first_broken_id}, expected one of ${ids}`);
  const cli = verifyCli();
  assert.notEqual(cli.code, 0, `cli verify exit code 0 on a broken log: ${cli.stdout}`);
  const out = cli.stdout + cli.stderr;
  assert.match(out, new RegExp(`\\b${v.first_broken_id}\\b`), `cli output lacks id ${v.first_broken_id}: ${out}`);
  return v;
}

function rowById(id) { return dbQuery(`SELECT * FROM ${T.audit} WHERE id = ${Number(id)}`)[0]; }

function insertRow(row) {
  const cols = Object.keys(row);
  const vals = cols.map(k => (row[k] === null ? 'NULL' : typeof row[k] === 'number' ? String(row[k]) : sqlString(row[k])));
  dbExec(`INSERT INTO ${T.audit} (${cols.join(', ')}) VALUES (${vals.join(', ')})`);
}

let target; // an audit row with a successor

test('setup: the log verifies clean, via API and CLI', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1, VILLAGE1);
  await createHousehold(v1, VILLAGE1); // a later row, so the target is not the last one
  target = auditRowsFor('%household%', h.id)[0];
  assert.ok(target, 'audit row of the new household');
  const next = dbQuery(`SELECT id FROM ${T.audit} WHERE id > ${Number(target.id)} ORDER BY id LIMIT 1`);
  assert.equal(next.length, 1);
  await expectClean();
});

test('editing after_json of one row is detected at that row; restoring makes it clean', async () => {
  const original = rowById(target.id).after_json;
  let tampered;
  try {
    const obj = JSON.parse(original);
    obj.residence_address = '篡改后的地址';
    obj.tampered = true;
    tampered = JSON.stringify(obj);
  } catch {
    tampered = original + ' ';
  }
  assert.notEqual(tampered, original);
  dbExec(`UPDATE ${T.audit} SET after_json = ${sqlString(tampered)} WHERE id = ${Number(target.id)}`);
  try {
    await expectBroken([target.id]);
  } finally {
    dbExec(`UPDATE ${T.audit} SET after_json = ${sqlString(original)} WHERE id = ${Number(target.id)}`);
  }
  assert.equal(rowById(target.id).after_json, original);
  await expectClean();
});

test('editing before_json of an update row is detected', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1, VILLAGE1);
  const { members, ...input } = householdInput(VILLAGE1);
  expectStatus(await v1.put(`/households/${h.id}`, { ...input, version: h.version }), 200);
  await createHousehold(v1, VILLAGE1);
  const rows = auditRowsFor('%household%', h.id);
  const upd = rows[rows.length - 1];
  const original = upd.before_json;
  const tampered = original.includes(h.residence_address)
    ? original.split(h.residence_address).join('从未有过的地址')
    : original + ' ';
  assert.notEqual(tampered, original);
  dbExec(`UPDATE ${T.audit} SET before_json = ${sqlString(tampered)} WHERE id = ${Number(upd.id)}`);
  try {
    await expectBroken([upd.id]);
  } finally {
    dbExec(`UPDATE ${T.audit} SET before_json = ${sqlString(original)} WHERE id = ${Number(upd.id)}`);
  }
  await expectClean();
});

test('editing the actor of a row is detected', async () => {
  const original = rowById(target.id).actor;
  dbExec(`UPDATE ${T.audit} SET actor = 'admin' WHERE id = ${Number(target.id)}`);
  try {
    await expectBroken([target.id]);
  } finally {
    dbExec(`UPDATE ${T.audit} SET actor = ${sqlString(original)} WHERE id = ${Number(target.id)}`);
  }
  await expectClean();
});

test('deleting a row in the middle is detected; re-inserting it makes the log clean', async () => {
  const row = rowById(target.id);
  const next = dbQuery(`SELECT id FROM ${T.audit} WHERE id > ${Number(target.id)} ORDER BY id LIMIT 1`)[0];
  dbExec(`DELETE FROM ${T.audit} WHERE id = ${Number(target.id)}`);
  try {
    assert.equal(rowById(target.id), undefined);
    await expectBroken([target.id, next.id]);
  } finally {
    if (!rowById(target.id)) insertRow(row);
  }
  assert.deepEqual(rowById(target.id), row);
  await expectClean();
});

test('deleting the newest row (truncating the tail) is detected', async () => {
  const v1 = await as('village1');
  await createHousehold(v1, VILLAGE1, [personInput({ relation: 'head' })]);
  const last = dbQuery(`SELECT * FROM ${T.audit} ORDER BY id DESC LIMIT 1`)[0];
  dbExec(`DELETE FROM ${T.audit} WHERE id = ${Number(last.id)}`);
  try {
    const v = await verifyApi();
    assert.equal(v.ok, false, `tail truncation not detected: ${JSON.stringify(v)}`);
    const cli = verifyCli();
    assert.notEqual(cli.code, 0, `cli verify exit code 0 after tail truncation: ${cli.stdout}`);
  } finally {
    if (!rowById(last.id)) insertRow(last);
  }
  await expectClean();
});

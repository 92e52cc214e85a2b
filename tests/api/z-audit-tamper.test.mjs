// Tampering with the audit table directly in the database must be detected by both
// GET /audit/verify and `doudi audit verify`. Each test restores the row afterwards.
// Since issue 17 (#13) the audit tables are append-only once sealed (triggers): the tampering
// here first unseals them, as someone with the database's own rights could; the chain is
// keyed (HMAC) and its head anchored, so even then the edit is found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import {
  as, expectStatus, createHousehold, householdInput, personInput, dbQuery, dbExec, dbCount,
  auditRowsFor, runBin, sqlString, sha256Hex, todayShanghai, DB, T, VILLAGE1,
} from './lib.mjs';

/** Runs statements on the audit tables with the append-only triggers lifted, then seals again. */
function tamper(sql) {
  const body = sql.trim().replace(/;?$/, ';');
  if (!('sealed' in dbQuery('SELECT * FROM audit_head WHERE id = 1')[0])) return dbExec(body);  // before issue 17
  dbExec(`UPDATE audit_head SET sealed = 0 WHERE id = 1; ${body} UPDATE audit_head SET sealed = 1 WHERE id = 1`);
}

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

// ---- issue 17 #13: the chain recomputed after an edit (plain SHA-256, or with the key)
const SEP = '\x1f';
const AUDIT_DIR = process.env.DOUDI_AUDIT_DIR;

/** The text an entry's hash covers (src/audit/audit_log.cc: id, fields, previous hash). */
function entryText(r, prev) {
  return [r.id, r.at, r.actor_id, r.actor, r.action, r.entity, r.entity_id, r.region_code, r.before_json, r.after_json]
    .map(String).join(SEP) + SEP + prev + SEP;
}
function hmacKey() { return Buffer.from(readFileSync(`${AUDIT_DIR}/hmac.key`, 'utf8').trim(), 'hex'); }

/** The rows from `from` on and the head, for restore(). */
function snapshot(from) {
  return {
    rows: dbQuery(`SELECT * FROM ${T.audit} WHERE id >= ${Number(from)} ORDER BY id`),
    head: dbQuery('SELECT prev_hash, last_hash FROM audit_head WHERE id = 1')[0],
  };
}
/** Recomputes the chain from entry `from` to the head as an attacker would, with `hash` (text → hex). */
function recomputeFrom(from, hash) {
  const rows = dbQuery(`SELECT * FROM ${T.audit} WHERE id >= ${Number(from)} ORDER BY id`);
  let prev = rows[0].prev_hash, before = '';
  const sql = [];
  for (const r of rows) {
    const h = hash(entryText(r, prev));
    sql.push(`UPDATE ${T.audit} SET prev_hash = ${sqlString(prev)}, hash = ${sqlString(h)} WHERE id = ${Number(r.id)};`);
    before = prev; prev = h;
  }
  sql.push(`UPDATE audit_head SET prev_hash = ${sqlString(before)}, last_hash = ${sqlString(prev)} WHERE id = 1;`);
  tamper(sql.join('\n'));
}
function restore({ rows, head }) {
  tamper(rows.map(r => `UPDATE ${T.audit} SET prev_hash = ${sqlString(r.prev_hash)}, hash = ${sqlString(r.hash)},
    after_json = ${sqlString(r.after_json)} WHERE id = ${Number(r.id)};`).join('\n') +
    `\nUPDATE audit_head SET prev_hash = ${sqlString(head.prev_hash)}, last_hash = ${sqlString(head.last_hash)} WHERE id = 1;`);
}
function forge(id) {
  const obj = JSON.parse(rowById(id).after_json);
  obj.residence_address = '伪造的地址';
  tamper(`UPDATE ${T.audit} SET after_json = ${sqlString(JSON.stringify(obj))} WHERE id = ${Number(id)}`);
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
  tamper(`UPDATE ${T.audit} SET after_json = ${sqlString(tampered)} WHERE id = ${Number(target.id)}`);
  try {
    await expectBroken([target.id]);
  } finally {
    tamper(`UPDATE ${T.audit} SET after_json = ${sqlString(original)} WHERE id = ${Number(target.id)}`);
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
  tamper(`UPDATE ${T.audit} SET before_json = ${sqlString(tampered)} WHERE id = ${Number(upd.id)}`);
  try {
    await expectBroken([upd.id]);
  } finally {
    tamper(`UPDATE ${T.audit} SET before_json = ${sqlString(original)} WHERE id = ${Number(upd.id)}`);
  }
  await expectClean();
});

test('editing the actor of a row is detected', async () => {
  const original = rowById(target.id).actor;
  tamper(`UPDATE ${T.audit} SET actor = 'admin' WHERE id = ${Number(target.id)}`);
  try {
    await expectBroken([target.id]);
  } finally {
    tamper(`UPDATE ${T.audit} SET actor = ${sqlString(original)} WHERE id = ${Number(target.id)}`);
  }
  await expectClean();
});

test('deleting a row in the middle is detected; re-inserting it makes the log clean', async () => {
  const row = rowById(target.id);
  const next = dbQuery(`SELECT id FROM ${T.audit} WHERE id > ${Number(target.id)} ORDER BY id LIMIT 1`)[0];
  tamper(`DELETE FROM ${T.audit} WHERE id = ${Number(target.id)}`);
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
  tamper(`DELETE FROM ${T.audit} WHERE id = ${Number(last.id)}`);
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

test('serve wrote today\'s signed anchor of the chain heads; verify checks it', async () => {
  assert.ok(AUDIT_DIR, 'DOUDI_AUDIT_DIR (tests/run.sh) names the key directory');
  const day = todayShanghai().replaceAll('-', '');
  const files = readdirSync(`${AUDIT_DIR}/anchors`);
  assert.ok(files.some(f => f.startsWith(`anchor-${day}T`)), `no anchor of today in ${files}`);
  const text = readFileSync(`${AUDIT_DIR}/anchors/${files.sort()[0]}`, 'utf8');
  assert.match(text, /^doudi-audit-anchor 1\nat .+\naudit \d+ [0-9a-f]{64}\nreads \d+ [0-9a-f]{64}\nsignature [0-9a-f]{128}\n$/);
  const v = await verifyApi();
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.ok(v.anchors >= 1, JSON.stringify(v));
});

test('an entry edited and the chain recomputed with plain SHA-256 fails verify (the chain is keyed)', async () => {
  const v1 = await as('village1');
  await createHousehold(v1, VILLAGE1);
  const saved = snapshot(target.id);
  forge(target.id);
  try {
    recomputeFrom(target.id, sha256Hex);
    await expectBroken([target.id]);
  } finally {
    restore(saved);
  }
  await expectClean();
});

test('an entry rewritten with the key after an anchor fails against the anchor', async () => {
  const v1 = await as('village1');
  await createHousehold(v1, VILLAGE1);
  const a = runBin(['audit', 'anchor', '--db', DB]);
  assert.equal(a.code, 0, `audit anchor: ${a.stdout} ${a.stderr}`);
  const anchored = Number(dbQuery('SELECT seq FROM audit_head WHERE id = 1')[0].seq);
  assert.ok(anchored > Number(target.id));
  const key = hmacKey();
  const saved = snapshot(target.id);
  forge(target.id);
  try {
    recomputeFrom(target.id, (t) => createHmac('sha256', key).update(Buffer.from(t, 'utf8')).digest('hex'));
    const v = await expectBroken([anchored]);
    assert.match(v.problem, /anchor/);
  } finally {
    restore(saved);
  }
  await expectClean();
});

test('an edit of the read log is detected (the read log is chained too)', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1, VILLAGE1);
  expectStatus(await v1.get(`/households/${h.id}`), 200);
  const row = dbQuery(`SELECT * FROM read_log WHERE entity = 'household' AND entity_id = ${sqlString(String(h.id))} ORDER BY id DESC`)[0];
  assert.ok(row, 'read-log row of the GET');
  assert.match(row.hash, /^[0-9a-f]{64}$/);
  tamper(`UPDATE read_log SET actor = 'admin' WHERE id = ${Number(row.id)}`);
  try {
    const v = await verifyApi();
    assert.equal(v.ok, false, `read-log edit not detected: ${JSON.stringify(v)}`);
    assert.equal(String(v.first_broken_read_id), String(row.id));
    const cli = verifyCli();
    assert.notEqual(cli.code, 0, `cli verify exit code 0 on a broken read log: ${cli.stdout}`);
    assert.match(cli.stdout + cli.stderr, new RegExp(`\\b${row.id}\\b`));
  } finally {
    tamper(`UPDATE read_log SET actor = ${sqlString(row.actor)} WHERE id = ${Number(row.id)}`);
  }
  await expectClean();
});

test('the audit tables are append-only: UPDATE and DELETE are refused by the database', async () => {
  const last = dbQuery(`SELECT id, actor FROM ${T.audit} ORDER BY id DESC LIMIT 1`)[0];
  assert.throws(() => dbExec(`UPDATE ${T.audit} SET actor = 'x' WHERE id = ${Number(last.id)}`), /append-only/);
  assert.throws(() => dbExec(`DELETE FROM ${T.audit} WHERE id = ${Number(last.id)}`), /append-only/);
  assert.throws(() => dbExec('DELETE FROM read_log'), /append-only/);
  assert.equal(dbQuery(`SELECT actor FROM ${T.audit} WHERE id = ${Number(last.id)}`)[0].actor, last.actor);
  await expectClean();
});

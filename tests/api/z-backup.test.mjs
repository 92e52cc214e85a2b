// `doudi backup` and `doudi restore` (issue 17, level-3 "backup and recovery"): a backup of the
// suite's live database taken while the server writes is restored into a new database (a new
// SQLite file; a new PostgreSQL database), its audit chain verifies and the rows written before
// the backup are there, those written after it are not; an existing --out is refused; a
// non-empty target is refused; a corrupted backup fails and leaves the target empty; a restored
// chain that does not verify is a non-zero exit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { as, createHousehold, runBin, dbQuery, DB, DB_KIND, BIN, T, VILLAGE1 } from './lib.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doudi-backup-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The doudi binary without blocking the event loop (the server's writes go on meanwhile). */
function runBinAsync(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A new, empty database of the suite's kind: a SQLite path not yet created, or a new PostgreSQL database. */
function newTarget() {
  const name = `doudi_restore_${randomBytes(4).toString('hex')}`;
  if (DB_KIND === 'sqlite') return `sqlite:${path.join(dir, `${name}.db`)}`;
  const u = new URL(DB);
  run('psql', ['-h', u.hostname, '-p', u.port || '5432', '-U', 'postgres', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
    '-c', `CREATE DATABASE ${name} OWNER ${decodeURIComponent(u.username) || 'doudi'}`]);
  u.pathname = `/${name}`;
  return u.toString();
}

/** SELECT on another database of the suite's kind → rows as objects. */
function queryOn(url, sql) {
  if (/^sqlite:/.test(url)) {
    const out = run('sqlite3', ['-bail', '-cmd', '.timeout 10000', '-json', url.slice(7), sql]);
    return out.trim() === '' ? [] : JSON.parse(out);
  }
  const wrapped = `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql}) t`;
  return JSON.parse(run('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-c', wrapped]));
}
function execOn(url, sql) {
  if (/^sqlite:/.test(url)) return run('sqlite3', ['-bail', '-cmd', '.timeout 10000', url.slice(7)], { input: `${sql};\n` });
  return run('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
}
function tableCount(url) {
  return Number(queryOn(url, DB_KIND === 'sqlite'
    ? "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
    : "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'")[0].n);
}
const ids = (rows) => new Set(rows.map(r => String(r.id)));
const backupPath = (name) => path.join(dir, `${name}.${DB_KIND === 'sqlite' ? 'db' : 'dump'}`);

let good;      // {file, target}: a backup of the live database and its restored copy

test('a backup of the live database while the server writes restores with a verified chain and the rows written before it', async () => {
  const v1 = await as('village1');
  const before = [];
  for (let i = 0; i < 3; ++i) before.push(await createHousehold(v1, VILLAGE1));

  // Writers in parallel, before, during and after the backup.
  const done = [];          // {id, at}: the answer's arrival
  const sent = [];          // households whose POST was sent after the backup exited
  let stop = false, backupEnded = Infinity;
  const writer = async () => {
    while (!stop) {
      const started = Date.now();
      const h = await createHousehold(v1, VILLAGE1);
      done.push({ id: String(h.id), at: Date.now() });
      if (started > backupEnded) sent.push(String(h.id));
    }
  };
  const writers = [writer(), writer(), writer(), writer()];
  while (done.length < 4) await new Promise(r => setTimeout(r, 20));

  const file = backupPath('live');
  const backupStarted = Date.now();
  const b = await runBinAsync(['backup', '--db', DB, '--out', file]);
  backupEnded = Date.now();
  const duringOrBefore = done.length;
  while (sent.length < 4) await new Promise(r => setTimeout(r, 20));
  stop = true;
  await Promise.all(writers);
  assert.equal(b.code, 0, `backup: ${b.code} ${b.stdout} ${b.stderr}`);
  assert.ok(duringOrBefore >= 4);

  // What it wrote: the file (owner-only), its manifest, and the report.
  const st = fs.statSync(file);
  assert.equal(st.mode & 0o077, 0, `backup file mode ${(st.mode & 0o777).toString(8)}`);
  const manifest = JSON.parse(fs.readFileSync(`${file}.manifest.json`, 'utf8'));
  assert.equal(manifest.database, DB_KIND);
  assert.equal(manifest.size, st.size);
  assert.match(manifest.sha256, /^[0-9a-f]{64}$/);
  assert.ok(manifest.audit_head.entries > 0);
  assert.match(manifest.audit_head.hash, /^[0-9a-f]{64}$/);
  assert.match(b.stdout, new RegExp(manifest.sha256));
  assert.match(b.stdout, /审计链头/);
  assert.deepEqual(fs.readdirSync(dir).filter(f => f.includes('.part-')), [], 'no temporary file left');

  const target = newTarget();
  const r = runBin(['restore', '--db', target, '--in', file]);
  assert.equal(r.code, 0, `restore: ${r.code} ${r.stdout} ${r.stderr}`);
  assert.match(r.stdout, /审计链完整/);
  assert.match(r.stdout, new RegExp(`共 ${manifest.audit_head.entries} 条`));

  // The restored database: the chain as `doudi audit verify` sees it, the head of the manifest.
  const v = runBin(['audit', 'verify', '--db', target]);
  assert.equal(v.code, 0, `audit verify on the restored database: ${v.stdout} ${v.stderr}`);
  const head = queryOn(target, 'SELECT seq, last_hash FROM audit_head WHERE id = 1')[0];
  assert.equal(Number(head.seq), manifest.audit_head.entries);
  assert.equal(head.last_hash, manifest.audit_head.hash);
  assert.equal(dbQuery(`SELECT hash FROM ${T.audit} WHERE id = ${Number(head.seq)}`)[0].hash, head.last_hash,
    'the restored head is an entry of the live chain');

  // Rows: every household answered before the backup started is there; none sent after it ended.
  const restored = ids(queryOn(target, 'SELECT id FROM households'));
  for (const h of before) assert.ok(restored.has(String(h.id)), `household ${h.id} written before the backup`);
  for (const d of done.filter(d => d.at < backupStarted))
    assert.ok(restored.has(d.id), `household ${d.id} answered before the backup started`);
  for (const id of sent) assert.ok(!restored.has(id), `household ${id} sent after the backup ended is not in it`);
  const live = ids(dbQuery('SELECT id FROM households'));
  for (const id of restored) assert.ok(live.has(id), `restored household ${id} exists in the live database`);
  const persons = Number(queryOn(target, 'SELECT count(*) AS n FROM persons')[0].n);
  assert.ok(persons >= restored.size, 'members restored with their households');
  good = { file, target, manifest };
});

test('an existing --out is refused (file and manifest unchanged); --force replaces it', async () => {
  assert.ok(good, 'needs the first test');
  const bytes = fs.readFileSync(good.file);
  const manifest = fs.readFileSync(`${good.file}.manifest.json`, 'utf8');
  const r = runBin(['backup', '--db', DB, '--out', good.file]);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, /已存在.*--force/);
  assert.ok(fs.readFileSync(good.file).equals(bytes), 'the existing backup is unchanged');
  assert.equal(fs.readFileSync(`${good.file}.manifest.json`, 'utf8'), manifest);

  // A lone manifest at the name is refused too (it would describe another file).
  const lone = backupPath('lone');
  fs.writeFileSync(`${lone}.manifest.json`, '{}');
  assert.equal(runBin(['backup', '--db', DB, '--out', lone]).code, 2);
  assert.ok(!fs.existsSync(lone));

  await createHousehold(await as('village1'), VILLAGE1);
  const f = runBin(['backup', '--db', DB, '--out', good.file, '--force']);
  assert.equal(f.code, 0, `--force: ${f.stdout} ${f.stderr}`);
  const now = JSON.parse(fs.readFileSync(`${good.file}.manifest.json`, 'utf8'));
  assert.ok(now.audit_head.entries > good.manifest.audit_head.entries, 'the new backup is newer');
  good.manifest = now;
});

test('a non-empty target is refused and left as it was', async () => {
  assert.ok(good, 'needs the first test');
  const before = queryOn(good.target, 'SELECT count(*) AS n FROM households')[0].n;
  const head = queryOn(good.target, 'SELECT seq FROM audit_head WHERE id = 1')[0].seq;
  const r = runBin(['restore', '--db', good.target, '--in', good.file]);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, /目标数据库不是空的/);
  assert.equal(queryOn(good.target, 'SELECT count(*) AS n FROM households')[0].n, before);
  assert.equal(queryOn(good.target, 'SELECT seq FROM audit_head WHERE id = 1')[0].seq, head);
  // The suite's own database is no target either.
  const live = runBin(['restore', '--db', DB, '--in', good.file]);
  assert.equal(live.code, 2, `restore over the live database: ${live.stdout} ${live.stderr}`);

  // --force replaces it with the (newer) backup, verified.
  const f = runBin(['restore', '--db', good.target, '--in', good.file, '--force']);
  assert.equal(f.code, 0, `--force: ${f.stdout} ${f.stderr}`);
  assert.equal(Number(queryOn(good.target, 'SELECT seq FROM audit_head WHERE id = 1')[0].seq),
    good.manifest.audit_head.entries);
});

test('a corrupted backup fails and leaves the target empty', async () => {
  assert.ok(good, 'needs the first test');
  const bytes = fs.readFileSync(good.file);
  // One byte changed in the middle: the SHA-256 of the manifest no longer matches.
  const flipped = backupPath('flipped');
  const copy = Buffer.from(bytes);
  copy[Math.floor(copy.length / 2)] ^= 0x5a;
  fs.writeFileSync(flipped, copy);
  fs.copyFileSync(`${good.file}.manifest.json`, `${flipped}.manifest.json`);
  let target = newTarget();
  let r = runBin(['restore', '--db', target, '--in', flipped]);
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, /备份文件已损坏.*SHA-256/);
  assert.equal(DB_KIND === 'sqlite' ? fs.existsSync(target.slice(7)) : tableCount(target) > 0, false,
    'nothing restored');

  // Cut in half, restored without a manifest: the database's own checks refuse it, nothing half-written.
  const cut = backupPath('cut');
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  r = runBin(['restore', '--db', target, '--in', cut]);
  assert.equal(r.code, 2, 'no manifest: refused unless --no-manifest');
  assert.match(r.stderr, /找不到备份清单/);
  r = runBin(['restore', '--db', target, '--in', cut, '--no-manifest']);
  assert.notEqual(r.code, 0, `a truncated backup restored: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, /损坏|失败/);
  assert.equal(DB_KIND === 'sqlite' ? (!fs.existsSync(target.slice(7)) || tableCount(target) === 0)
    : tableCount(target) === 0, true, 'nothing half-restored');

  // Not a backup at all.
  const junk = backupPath('junk');
  fs.writeFileSync(junk, 'not a database\n'.repeat(100));
  r = runBin(['restore', '--db', target, '--in', junk, '--no-manifest']);
  assert.notEqual(r.code, 0);
  target = null;
});

test('a backup whose audit chain was edited restores with a failed verification (exit 3)', async () => {
  assert.ok(good, 'needs the first test');
  // Edit an entry in a restored copy, back that copy up, restore it: the chain verification fails.
  const tampered = newTarget();
  assert.equal(runBin(['restore', '--db', tampered, '--in', good.file]).code, 0);
  // The audit tables are append-only while the chain is sealed (issue 17): the tamperer lifts that first.
  execOn(tampered, "UPDATE audit_head SET sealed = 0 WHERE id = 1");
  execOn(tampered, "UPDATE audit_log SET actor = 'admin' WHERE id = 2");
  execOn(tampered, "UPDATE audit_head SET sealed = 1 WHERE id = 1");
  assert.equal(queryOn(tampered, 'SELECT actor FROM audit_log WHERE id = 2')[0].actor, 'admin');
  const file = backupPath('tampered');
  const b = runBin(['backup', '--db', tampered, '--out', file]);
  assert.equal(b.code, 0, `backup: ${b.stdout} ${b.stderr}`);
  const r = runBin(['restore', '--db', newTarget(), '--in', file]);
  assert.equal(r.code, 3, `exit ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.match(r.stdout, /审计链校验失败：第 2 条/);
});

test('PostgreSQL: the password reaches pg_dump and pg_restore in the environment, not on their command line',
  { skip: DB_KIND !== 'postgresql' && 'PostgreSQL only' }, async () => {
    // A wrapper first on PATH records the arguments and PGPASSWORD, then runs the real tool.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const log = path.join(dir, 'pgtools.log');
    for (const tool of ['pg_dump', 'pg_restore']) {
      const real = run('sh', ['-c', `command -v ${tool}`]).trim();
      fs.writeFileSync(path.join(bin, tool),
        `#!/bin/sh\nprintf '%s argv: %s\\n%s env: %s\\n' ${tool} "$*" ${tool} "$PGPASSWORD" >> '${log}'\nexec ${real} "$@"\n`,
        { mode: 0o755 });
    }
    const secret = `pw${randomBytes(6).toString('hex')}`;
    const u = new URL(DB);
    u.password = secret;   // the test cluster trusts loopback: the password is not checked
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const file = backupPath('secret');
    run(BIN, ['backup', '--db', u.toString(), '--out', file], { env });
    const t = new URL(newTarget());
    t.password = secret;
    run(BIN, ['restore', '--db', t.toString(), '--in', file], { env });
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const argv = lines.filter(l => / argv: /.test(l));
    assert.ok(argv.some(l => l.startsWith('pg_dump')) && argv.some(l => l.startsWith('pg_restore')), lines.join('\n'));
    for (const l of argv) assert.ok(!l.includes(secret), `password on the command line: ${l}`);
    assert.ok(lines.filter(l => / env: /.test(l)).every(l => l.endsWith(` env: ${secret}`)), lines.join('\n'));
  });

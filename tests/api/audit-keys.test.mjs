// Issue 17 #13: the audit chain's keys live outside the database, in a key directory that the
// binary finds without flags (beside the SQLite file by default), created with mode 0600 by
// `migrate`; `serve` refuses to run without them or with another database's key; `audit
// anchor` writes a signed anchor that `audit verify` checks. On a scratch SQLite file of its own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, readdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, freePort, strongPassword, uniq, VILLAGE1 } from './lib.mjs';

const dir = mkdtempSync(join(tmpdir(), 'doudi-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = `sqlite:${dir}/a.db`;
const keys = `${dir}/a.db.audit`;

/** The binary with DOUDI_AUDIT_DIR unset (the default directory applies). */
function bin(args, timeout = 60000) {
  const env = { ...process.env };
  delete env.DOUDI_AUDIT_DIR;
  const r = spawnSync(BIN, args, { encoding: 'utf8', env, timeout });
  return { code: r.status, out: r.stdout + r.stderr };
}
const mode = (p) => statSync(p).mode & 0o777;

test('migrate creates the keys beside the SQLite file, owner-only', () => {
  const r = bin(['migrate', '--db', db]);
  assert.equal(r.code, 0, r.out);
  assert.equal(mode(keys), 0o700);
  assert.equal(mode(`${keys}/hmac.key`), 0o600);
  assert.equal(mode(`${keys}/sign.key`), 0o600);
  assert.match(readFileSync(`${keys}/hmac.key`, 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.match(readFileSync(`${keys}/sign.pub`, 'utf8'), /^[0-9a-f]{64}\n$/);
  const before = readFileSync(`${keys}/hmac.key`, 'utf8');
  assert.equal(bin(['migrate', '--db', db]).code, 0);
  assert.equal(readFileSync(`${keys}/hmac.key`, 'utf8'), before, 'an existing key is kept');
  const u = bin(['user', 'add', '--db', db, '--username', uniq('k'), '--password', strongPassword(), '--name', '密钥测试',
    '--role', 'village_assistant', '--region', VILLAGE1]);
  assert.equal(u.code, 0, u.out);
  const v = bin(['audit', 'verify', '--db', db]);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, /共 1 条/);
});

test('audit anchor writes a signed anchor that verify checks; a forged one is refused', () => {
  const a = bin(['audit', 'anchor', '--db', db]);
  assert.equal(a.code, 0, a.out);
  const files = readdirSync(`${keys}/anchors`);
  assert.equal(files.length, 1);
  assert.match(bin(['audit', 'verify', '--db', db]).out, /已核对 1 个锚点/);
  const path = `${keys}/anchors/${files[0]}`;
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace(/^audit (\d+) ([0-9a-f]{64})$/m, (_, id) => `audit ${id} ${'0'.repeat(64)}`));
  const v = bin(['audit', 'verify', '--db', db]);
  assert.equal(v.code, 3, v.out);
  assert.match(v.out, /signature/);
  writeFileSync(path, text);
  assert.equal(bin(['audit', 'verify', '--db', db]).code, 0);
});

test('a key file others can read is refused; serve refuses a missing or another key', async () => {
  chmodSync(`${keys}/hmac.key`, 0o644);
  const v = bin(['audit', 'verify', '--db', db]);
  assert.notEqual(v.code, 0);
  assert.match(v.out, /权限过宽/);
  chmodSync(`${keys}/hmac.key`, 0o600);
  const port = await freePort();
  const other = `${dir}/other-keys`;
  assert.equal(bin(['audit', 'keygen', '--db', db, '--audit-dir', other]).code, 0);
  const s = bin(['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--audit-dir', other], 20000);
  assert.notEqual(s.code, 0, s.out);
  assert.match(s.out, /审计密钥与数据库中的审计链不符/);
  const none = bin(['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--audit-dir', `${dir}/none`], 20000);
  assert.notEqual(none.code, 0, none.out);
  assert.match(none.out, /找不到审计密钥文件/);
});

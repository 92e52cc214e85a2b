// Shared helpers of the black-box HTTP API suite (node 20 built-ins only; the database
// helpers shell out to the `sqlite3` and `psql` command-line clients).
//
// Environment (set by the runner script):
//   DOUDI_URL       base URL of the live server, e.g. http://127.0.0.1:18081
//   DOUDI_DB        the server's database URL: sqlite:/abs/path.db or postgresql://…
//   DOUDI_BIN       absolute path of the doudi binary
//   DOUDI_PASSWORD  password of every demo user
//   DOUDI_TOTP_SECRETS  JSON {username: base32 TOTP secret} of the demo admin and auditor
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import fs from 'node:fs';
import path from 'node:path';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export const BASE = env('DOUDI_URL').replace(/\/+$/, '');
export const DB = env('DOUDI_DB');
export const BIN = env('DOUDI_BIN');
export const PASSWORD = env('DOUDI_PASSWORD');
export const API = '/api/v1';

/** 'sqlite' or 'postgresql', from DOUDI_DB's scheme. */
export const DB_KIND = /^sqlite:/i.test(DB) ? 'sqlite'
  : /^postgres(ql)?:/i.test(DB) ? 'postgresql'
  : (() => { throw new Error(`unsupported DOUDI_DB ${DB}`); })();

/** Short token unique to this run, for usernames and the like. */
export const RUN = Date.now().toString(36) + randomBytes(3).toString('hex');
export function uniq(prefix = 't') {
  return `${prefix}${RUN}${randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------- demo data
export const COUNTY = '370725';
export const TOWN1 = '370725107'; // 乔官镇
export const TOWN2 = '370725001'; // 宝都街道
export const VILLAGE1 = '370725107202'; // 乔南村 (village1)
export const VILLAGE2 = '370725107206'; // 龙泉院村 (village2)
export const VILLAGE3 = '370725001036'; // (village3), in 宝都街道
export const UNKNOWN_VILLAGE = '370725107999'; // well-formed, not a division

// ---------------------------------------------------------------- HTTP client
function parseBody(text) {
  if (text === '') return null;
  try { return JSON.parse(text); } catch { return text; }
}

/** A client with its own cookie jar and CSRF token. */
export class Client {
  constructor(name = 'anonymous') {
    this.name = name;
    this.cookies = new Map();
    this.csrf = null;
    this.user = null;
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  storeCookies(res) {
    for (const sc of res.headers.getSetCookie()) {
      const first = sc.split(';')[0];
      const eq = first.indexOf('=');
      if (eq < 0) continue;
      const k = first.slice(0, eq).trim();
      const v = first.slice(eq + 1).trim();
      const expired = /max-age=0\b/i.test(sc) || /expires=thu, 01 jan 1970/i.test(sc);
      if (v === '' || expired) this.cookies.delete(k); else this.cookies.set(k, v);
    }
  }

  /**
   * request(method, path, opts) → {status, body, text, headers}
   * opts.json: value to send as JSON; opts.raw: string/Buffer body sent as is;
   * opts.csrf: false to omit X-CSRF-Token, a string to send that value;
   * opts.headers: extra headers; opts.cookies: false to send no cookie.
   */
  async request(method, path, opts = {}) {
    const headers = { accept: 'application/json', ...(opts.headers || {}) };
    let body;
    if (opts.raw !== undefined) {
      body = opts.raw;
      if (!('content-type' in headers)) headers['content-type'] = 'application/json';
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    if (opts.cookies !== false && this.cookies.size) headers.cookie = this.cookieHeader();
    const mutating = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    if (mutating && opts.csrf !== false) {
      const token = typeof opts.csrf === 'string' ? opts.csrf : this.csrf;
      if (token) headers['x-csrf-token'] = token;
    }
    const url = path.startsWith('http') ? path : BASE + (path.startsWith('/api/') ? path : API + path);
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.storeCookies(res);
    const text = await res.text();
    return { status: res.status, body: parseBody(text), text, headers: res.headers };
  }

  get(path, opts) { return this.request('GET', path, opts); }
  post(path, json, opts = {}) { return this.request('POST', path, { ...opts, json }); }
  put(path, json, opts = {}) { return this.request('PUT', path, { ...opts, json }); }
  patch(path, json, opts = {}) { return this.request('PATCH', path, { ...opts, json }); }
  del(path, opts) { return this.request('DELETE', path, opts); }
}

// ---------------------------------------------------------------- TOTP (RFC 6238)
/** TOTP secrets (base32) by username: the demo's from DOUDI_TOTP_SECRETS, and those enrolled here. */
export const totpSecrets = new Map(Object.entries(JSON.parse(process.env.DOUDI_TOTP_SECRETS || '{}')));

export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.replace(/[=\s]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `secret` (base32) for a 30-second time step. */
export function totpCode(secret, step = Math.floor(Date.now() / 30000)) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const o = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const usedSteps = new Map();
/**
 * A code for `username` the server has not seen yet: the server accepts the steps now-1..now+1
 * once each (a replay is refused), so the step after the last used one (the database's record
 * and this process's) is taken, waiting for the clock when all three are used.
 */
export async function nextTotpCode(username, secret = totpSecrets.get(username)) {
  let last = usedSteps.get(username) ?? 0;
  try {
    const rows = dbQuery(`SELECT totp_last_step AS s FROM users WHERE username = ${sqlString(username)}`);
    last = Math.max(last, Number(rows[0]?.s ?? 0));
  } catch { /* no database access: this process's record only */ }
  for (;;) {
    const t = Date.now() / 1000;
    const low = Math.floor((t + 3) / 30) - 1;  // still accepted 3 s from now
    const step = Math.max(low, last + 1);
    if (step <= Math.floor(t / 30) + 1) {
      usedSteps.set(username, step);
      return totpCode(secret, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// The password now in force for (username, password given by a test) after a forced change.
const changedPasswords = new Map();
/** The password a forced change (login) gives: the given one with a suffix. */
export function changedPassword(password) { return `${password}Zx7`; }
/** The password in force for `username` when a test gives `given` (after a forced change by login()). */
export function currentPassword(username, given = PASSWORD) {
  const changed = changedPasswords.get(username);
  return changed && changed.given === given ? changed.current : given;
}

/**
 * Attempts a login; returns {client, res} whatever the outcome. Adds the TOTP code for users
 * whose secret is known (opts.totp: a code of one's own, or false for none), and uses the
 * password a forced change by login() put in place of `password`.
 */
export async function tryLogin(username, password = PASSWORD, opts = {}) {
  const changed = changedPasswords.get(username);
  const pw = changed && changed.given === password ? changed.current : password;
  const c = new Client(username);
  const body = { username, password: pw };
  if (typeof opts.totp === 'string') body.totp_code = opts.totp;
  else if (opts.totp !== false && totpSecrets.has(username)) body.totp_code = await nextTotpCode(username);
  const res = await c.post('/session', body);
  if (res.status === 200 && res.body && typeof res.body === 'object') {
    c.csrf = res.body.csrf_token;
    c.user = res.body.user;
    c.pending = res.body.pending ?? '';
  }
  return { client: c, res };
}

/**
 * Logs in (must succeed) and returns the client. Does what the session is pending: a forced
 * password change (to changedPassword(password), remembered: later logins with `password`
 * use it) and TOTP enrolment (the secret remembered in totpSecrets).
 */
export async function login(username, password = PASSWORD) {
  const reused = await reusedSession(username, password);
  if (reused) return reused;
  const client = await freshLogin(username, password);
  saveSession(username, password, client);
  return client;
}

// Two-factor accounts (the county admin, the auditor) accept each TOTP time step once, so at
// most three logins of one of them per 30 s: the suite's files would spend minutes waiting for
// the clock. Their login() therefore reuses a session one of the suite's processes opened with
// a real code (DOUDI_SESSION_CACHE, a folder per server that tests/run.sh sets), as long as the
// server still accepts it (GET /session); the TOTP tests themselves log in with tryLogin().
const SESSION_CACHE = process.env.DOUDI_SESSION_CACHE || '';
function sessionFile(username) { return path.join(SESSION_CACHE, `${username}.json`); }
async function reusedSession(username, password) {
  if (!SESSION_CACHE || password !== PASSWORD || !totpSecrets.has(username)) return null;
  let saved;
  try { saved = JSON.parse(fs.readFileSync(sessionFile(username), 'utf8')); } catch { return null; }
  const c = new Client(username);
  for (const [k, v] of Object.entries(saved.cookies)) c.cookies.set(k, v);
  c.csrf = saved.csrf;
  const res = await c.get('/session');
  if (res.status !== 200 || res.body?.pending || res.body?.user?.username !== username) return null;
  c.user = res.body.user;
  c.pending = '';
  return c;
}
function saveSession(username, password, client) {
  if (!SESSION_CACHE || password !== PASSWORD || !totpSecrets.has(username)) return;
  fs.mkdirSync(SESSION_CACHE, { recursive: true, mode: 0o700 });
  fs.writeFileSync(sessionFile(username), JSON.stringify({ cookies: Object.fromEntries(client.cookies), csrf: client.csrf }),
    { mode: 0o600 });
}

async function freshLogin(username, password) {
  const { client, res } = await tryLogin(username, password);
  assert.equal(res.status, 200, `login ${username}: ${res.status} ${res.text}`);
  assert.ok(client.cookies.get('doudi_session'), `login ${username}: no doudi_session cookie`);
  assert.equal(typeof client.csrf, 'string', `login ${username}: no csrf_token`);
  if (client.pending === 'password_change') {
    const changed = changedPasswords.get(username);
    const current = changed && changed.given === password ? changed.current : password;
    const next = changedPassword(current);
    const r = await client.post('/session/password', { old_password: current, new_password: next });
    assert.equal(r.status, 200, `forced password change of ${username}: ${r.status} ${r.text}`);
    changedPasswords.set(username, { given: password, current: next });
    client.user = r.body.user;
    client.pending = r.body.pending;
  }
  if (client.pending === 'totp_enrolment') {
    const b = await client.post('/session/totp', {});
    assert.equal(b.status, 200, `TOTP enrolment of ${username}: ${b.status} ${b.text}`);
    totpSecrets.set(username, b.body.secret);
    usedSteps.delete(username);
    const step = Math.floor(Date.now() / 30000);
    const r = await client.post('/session/totp/confirm', { code: totpCode(b.body.secret, step) });
    assert.equal(r.status, 200, `TOTP confirmation of ${username}: ${r.status} ${r.text}`);
    usedSteps.set(username, step);
    client.user = r.body.user;
    client.pending = r.body.pending;
  }
  assert.equal(client.pending, '', `login ${username}: still pending ${client.pending}`);
  return client;
}

const clientCache = new Map();
/** Logged-in client reused within one test file. */
export async function as(username) {
  if (!clientCache.has(username)) clientCache.set(username, await login(username));
  return clientCache.get(username);
}

// ---------------------------------------------------------------- assertions
/** The error table of docs/api.md: code → HTTP status. No other codes exist. */
export const ERROR_CODES = {
  malformed_json: 400, invalid_argument: 400, unauthenticated: 401, invalid_credentials: 401,
  csrf_failed: 403, permission_denied: 403, not_found: 404, method_not_allowed: 405,
  version_conflict: 409, conflict: 409, failed_precondition: 409, invalid_transition: 409, payload_too_large: 413, account_locked: 423, too_many_requests: 429, internal: 500,
  outcome_unknown: 500, committed_unread: 500, unavailable: 503,
  unsupported_media_type: 415, busy: 503,
  totp_required: 401, password_change_required: 403, totp_enrolment_required: 403,
};

/** Asserts the error envelope (with a documented code matching the status) and returns it. */
export function expectError(res, status, code, field) {
  const ctx = `${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, `expected HTTP ${status} ${code ?? ''}, got ${ctx}`);
  assert.ok(res.body && typeof res.body === 'object' && res.body.error, `no error envelope: ${ctx}`);
  const e = res.body.error;
  assert.ok(Object.hasOwn(ERROR_CODES, e.code), `undocumented error code "${e.code}": ${ctx}`);
  assert.equal(ERROR_CODES[e.code], res.status, `code ${e.code} with HTTP ${res.status}: ${ctx}`);
  if (code !== undefined) assert.equal(e.code, code, `error code: ${ctx}`);
  assert.equal(typeof e.message, 'string', `error.message: ${ctx}`);
  assert.ok(e.message.length > 0, `empty error.message: ${ctx}`);
  assert.equal(typeof e.field, 'string', `error.field must be a string: ${ctx}`);
  if (field !== undefined) assert.equal(e.field, field, `error field: ${ctx}`);
  return e;
}

export function expectStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what} expected ${status}, got ${res.status} ${res.text.slice(0, 800)}`);
  return res.body;
}

// ---------------------------------------------------------------- citizen ids
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

function pad(n, w) { return String(n).padStart(w, '0'); }

/**
 * A random valid 18-character citizen id (GB 11643) of county 370725.
 * opts.check: force the check character (e.g. 'X'); opts.sex: 'male'|'female';
 * opts.birth: 'YYYYMMDD'.
 */
export function citizenId(opts = {}) {
  for (;;) {
    let birth = opts.birth;
    if (!birth) {
      const start = Date.UTC(1940, 0, 1), end = Date.UTC(2015, 11, 31);
      const d = new Date(start + randomInt(0, Math.floor((end - start) / 86400000) + 1) * 86400000);
      birth = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
    }
    let seq = randomInt(0, 1000);
    if (opts.sex === 'male' && seq % 2 === 0) seq = (seq + 1) % 1000;
    if (opts.sex === 'female' && seq % 2 === 1) seq = seq - 1;
    const first17 = `370725${birth}${pad(seq, 3)}`;
    const c = checkChar(first17);
    if (opts.check && c !== opts.check) continue;
    return first17 + c;
  }
}

/** Same id with a wrong check character. */
export function wrongCheck(id) {
  const right = checkChar(id.slice(0, 17));
  const options = CHECK.split('').filter(c => c !== right);
  return id.slice(0, 17) + options[randomInt(0, options.length)];
}

/** Recomputes the check character (for building ids with e.g. a bad birth date). */
export function withCheck(first17) { return first17 + checkChar(first17); }

export function birthOf(id) { return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`; }
export function sexOf(id) { return Number(id[16]) % 2 === 1 ? 'male' : 'female'; }

// ---------------------------------------------------------------- payloads
const SURNAMES = '赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌玉梅海燕春雪松柏林森波浩宇轩然鹏飞';
/** A random 4-character Chinese name, practically unique. */
export function chineseName() {
  let s = SURNAMES[randomInt(0, SURNAMES.length)];
  for (let i = 0; i < 3; i++) s += GIVEN[randomInt(0, GIVEN.length)];
  return s;
}

export function personInput(overrides = {}) {
  return {
    citizen_id: citizenId(),
    name: chineseName(),
    relation: 'head',
    disability: null,
    serious_illness: false,
    self_care: 'full',
    in_school: false,
    employed: false,
    has_supporter: true,
    monthly_income_fen: { wage: 0, business: 0, property: 0, transfer: 0, pension: 0, other: 0 },
    ...overrides,
  };
}

export function householdInput(village = VILLAGE1, members, overrides = {}) {
  return {
    village_code: village,
    area: 'rural',
    residence_address: `测试地址 ${randomInt(1, 999)} 号`,
    phone: `138${pad(randomInt(0, 1e8), 8)}`,
    assets: { deposits_fen: 0, vehicles: 0, extra_properties: 0, business: false },
    annual_rigid_expenditure_fen: { medical: 0, education: 0 },
    members: members || [personInput({ relation: 'head' })],
    ...overrides,
  };
}

/** Creates a household (must succeed, 201) and returns the Household body. */
export async function createHousehold(client, village = VILLAGE1, members, overrides = {}) {
  const input = householdInput(village, members, overrides);
  const res = await client.post('/households', input);
  assert.equal(res.status, 201, `create household in ${village}: ${res.status} ${res.text.slice(0, 500)}`);
  return res.body;
}

/** All items of a paged list endpoint (page_size 200). */
export async function listAll(client, path) {
  const sep = path.includes('?') ? '&' : '?';
  const items = [];
  for (let page = 1; ; page++) {
    const res = await client.get(`${path}${sep}page=${page}&page_size=200`);
    assert.equal(res.status, 200, `${path} page ${page}: ${res.status} ${res.text.slice(0, 300)}`);
    items.push(...res.body.items);
    if (res.body.items.length === 0 || items.length >= res.body.total) return items;
    if (page > 100) throw new Error('too many pages');
  }
}

// ---------------------------------------------------------------- database
export function sqlitePath() { return DB.replace(/^sqlite:(\/\/(?=\/))?/i, ''); }

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs a SELECT directly on the server's database and returns the rows as objects.
 * (Values are JSON: integers as numbers, text as strings.)
 */
export function dbQuery(sql) {
  if (DB_KIND === 'sqlite') {
    const out = run('sqlite3', ['-bail', '-cmd', '.timeout 10000', '-json', sqlitePath(), sql]);
    return out.trim() === '' ? [] : JSON.parse(out);
  }
  const wrapped = `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql.replace(/;\s*$/, '')}) t`;
  const out = run('psql', [DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-c', wrapped]);
  return JSON.parse(out);
}

/** Runs statements (UPDATE/DELETE/INSERT…) directly on the database. */
export function dbExec(sql) {
  if (DB_KIND === 'sqlite') {
    return run('sqlite3', ['-bail', '-cmd', '.timeout 10000', sqlitePath()], sql.trim().replace(/;?$/, ';\n'));
  }
  return run('psql', [DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At'], sql.trim().replace(/;?$/, ';\n'));
}

/**
 * Makes the database refuse inserts into `table` whose new row matches `when` (an SQL condition
 * on NEW, the same on both databases), through a trigger named `name`, while `fn` runs; the
 * trigger is removed after.
 */
export async function withInsertRefused(table, name, when, fn) {
  dbExec(DB_KIND === 'sqlite'
    ? `CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused by test'); END`
    : `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${when} THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  try {
    return await fn();
  } finally {
    dbExec(DB_KIND === 'sqlite' ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}()`);
  }
}

/** SELECT count(*) helper. */
export function dbCount(table, where = '1=1') {
  const rows = dbQuery(`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
  return Number(rows[0].n);
}

export function sqlString(s) { return `'${String(s).replace(/'/g, "''")}'`; }

// ---------------------------------------------------------------- binary
/** Runs DOUDI_BIN with args → {code, stdout, stderr}. */
export function runBin(args, opts = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: opts.timeout ?? 60000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------- schema names
// Table names from the server's migrations (src/storage/migrations.h).
export const T = {
  households: 'households',
  persons: 'persons',
  audit: 'audit_log',
};

/** Row counts used to assert "nothing was written". */
export function dbSnapshot() {
  const [r] = dbQuery(`SELECT (SELECT count(*) FROM ${T.households}) AS households,
    (SELECT count(*) FROM ${T.persons}) AS persons, (SELECT count(*) FROM ${T.audit}) AS audit`);
  return { households: Number(r.households), persons: Number(r.persons), audit: Number(r.audit) };
}

export function personsWithId(citizenId) {
  return dbCount(T.persons, `citizen_id = ${sqlString(citizenId.toUpperCase())}`);
}

// ---------------------------------------------------------------- users
/** A password satisfying the policy (≥ 10 characters, three classes, not common, not the username). */
export function strongPassword() { return `Pw${randomBytes(6).toString('hex')}9z`; }

/** Admin creates a throwaway user (must succeed); returns {user, username, password}. */
export async function createUser(admin, fields = {}) {
  const username = fields.username || uniq('u');
  const password = fields.password || strongPassword();
  const body = {
    username, password,
    display_name: fields.display_name || '测试用户',
    role: fields.role || 'village_assistant',
    region_code: fields.region_code || VILLAGE1,
    department: fields.department ?? '',
  };
  const res = await admin.post('/users', body);
  assert.equal(res.status, 201, `create user ${username}: ${res.status} ${res.text.slice(0, 500)}`);
  return { user: res.body, username, password };
}

/** Today's date in Asia/Shanghai as YYYY-MM-DD. */
export function todayShanghai() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

/** Completed years between birth (YYYY-MM-DD) and today in Asia/Shanghai. */
export function ageOn(birth, today = todayShanghai()) {
  const [by, bm, bd] = birth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  return ty - by - ((tm < bm || (tm === bm && td < bd)) ? 1 : 0);
}

export const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$/;

export function maskId(id) { return id.slice(0, 6) + '********' + id.slice(-4); }

// ---------------------------------------------------------------- audit
/** audit_log rows (from the database) about one entity id, oldest first. */
export function auditRowsFor(entityLike, entityId) {
  return dbQuery(`SELECT * FROM ${T.audit} WHERE entity LIKE ${sqlString(entityLike)} AND entity_id = ${sqlString(String(entityId))} ORDER BY id`);
}

/** JSON value of an audit before/after field as returned by the API (object or JSON text). */
export function auditJson(v) {
  if (typeof v === 'string') { try { return JSON.parse(v); } catch { return v; } }
  return v;
}

// ---------------------------------------------------------------- workflow (issue 4)
// Helpers of the application-workflow tests (workflow*.test.mjs, emergency, referrals, public,
// calendar). Contract: docs/workflow.md and docs/api.md ("Applications" … "Public").
import { createHash } from 'node:crypto';

/** The states of the machine (docs/workflow.md). */
export const WF_STATES = ['received', 'documents_requested', 'accepted', 'visited', 'verified',
  'public_notice', 'awaiting_decision', 'enrolled', 'refused', 'withdrawn'];
/** Every action of the transition table. */
export const WF_ACTIONS = ['link_household', 'record_signatures', 'request_documents', 'accept', 'record_visit', 'record_verification',
  'town_opinion', 'record_objection', 'answer_objection', 'close_notice', 'approve', 'refuse', 'extend', 'withdraw'];
/** Allowed actions per state, from the table of docs/workflow.md. */
export const WF_ALLOWED = {
  received: ['link_household', 'record_signatures', 'request_documents', 'accept', 'withdraw'],
  documents_requested: ['link_household', 'record_signatures', 'accept', 'withdraw'],
  accepted: ['record_visit', 'extend', 'withdraw'],
  visited: ['record_verification', 'extend', 'withdraw'],
  verified: ['town_opinion', 'extend', 'withdraw'],
  public_notice: ['record_objection', 'answer_objection', 'close_notice', 'extend'],
  awaiting_decision: ['approve', 'refuse', 'extend'],
  enrolled: [], refused: [], withdrawn: [],
};
/** A demo user whose role may perform the action on a case of 乔官镇 (so that only the state is at fault). */
export const WF_ACTOR = {
  link_household: 'town_clerk', record_signatures: 'town_clerk', request_documents: 'town_clerk', accept: 'town_clerk', record_visit: 'town_clerk',
  record_verification: 'town_clerk', town_opinion: 'town_reviewer', record_objection: 'town_clerk',
  answer_objection: 'town_clerk', close_notice: 'town_clerk', approve: 'reviewer', refuse: 'reviewer',
  extend: 'town_reviewer', withdraw: 'town_clerk',
};

/** expectError for the action endpoint (409 `invalid_transition` is in the error table of docs/api.md). */
export function expectCaseError(res, status, code, field) {
  return expectError(res, status, code, field);
}

/** The applications row (state, version, …) straight from the database. */
export function appRow(id) {
  const rows = dbQuery(`SELECT * FROM applications WHERE id = ${Number(id)}`);
  assert.equal(rows.length, 1, `applications row ${id}`);
  const r = rows[0];
  return { ...r, version: Number(r.version) };
}

/** Counts that a refused action must leave unchanged: audit entries of the case, notices, objections, enrollments, referrals. */
export function caseFootprint(id) {
  const n = Number(id);
  return {
    row: (({ state, version, due_date, accepted_at, decided_at, decision, escalated, extended, household_id, notice_ends }) =>
      ({ state, version, due_date, accepted_at, decided_at, decision, escalated, extended, household_id, notice_ends }))(appRow(n)),
    audit: dbCount(T.audit, `entity = 'application' AND entity_id = '${n}'`),
    notices: dbCount('notices', `application_id = ${n}`),
    objections: dbCount('objections', `application_id = ${n}`),
    enrollments: dbCount('enrollments', `application_id = ${n}`),
    referrals: dbCount('referrals', `application_id = ${n}`),
  };
}

/** GET /applications/{id} (as admin unless a client is given); must succeed. */
export async function getApp(id, client) {
  const c = client || await as('admin');
  return expectStatus(await c.get(`/applications/${id}`), 200, `${c.name} GET application ${id}`);
}

/** A valid payload for each action (ctx: {household_id, objection_id}). */
export function wfPayload(action, ctx = {}) {
  switch (action) {
    case 'link_household': return { household_id: ctx.household_id ?? 1 };
    case 'record_signatures': return { authorization: true, commitment: true };
    case 'request_documents': return { missing_items: ['户口簿复印件', '残疾证复印件'] };
    case 'accept': return {};
    case 'record_visit': return { visited_on: todayShanghai(), staff: ['王某', '李某'], findings: '入户调查：家中无劳动力，住房简陋。' };
    case 'record_verification': return { findings: '经济状况核对：无存款、无车辆、无工商登记。' };
    case 'town_opinion': return { recommend: 'approve', opinion: '符合条件，拟同意。', escalate: false };
    case 'record_objection': return { content: '有村民反映其家中另有收入。', by: '匿名村民' };
    case 'answer_objection': return { objection_id: ctx.objection_id ?? 1, answer: '经复核，反映情况不属实。' };
    case 'close_notice': return {};
    case 'approve': return { opinion: '同意。' };
    case 'refuse': return { reasons: '家庭人均收入高于当地最低生活保障标准。' };
    case 'extend': return { reason: '需进一步核实家庭经济状况。' };
    case 'withdraw': return { reason: '申请人主动撤回。' };
    default: throw new Error(`unknown action ${action}`);
  }
}

/** POST /applications/{id}/actions with the case's current version (read from the database) unless given. */
export async function act(client, id, action, payload = {}, version) {
  const v = version === undefined ? appRow(id).version : version;
  return client.post(`/applications/${id}/actions`, { action, version: v, ...payload });
}

/** An action that must succeed (200); checks the new state (if given) and that the version went up. */
export async function actOk(client, id, action, payload = {}, state) {
  const before = appRow(id);
  const res = await act(client, id, action, payload, before.version);
  const app = expectStatus(res, 200, `${client.name} ${action} (from ${before.state})`);
  assert.equal(String(app.id), String(id), `${action}: id`);
  if (state) assert.equal(app.state, state, `${action}: state`);
  assert.ok(app.version > before.version, `${action}: version ${before.version} → ${app.version}`);
  assert.equal(appRow(id).state, app.state, `${action}: database state`);
  return app;
}

/** A refused action: the expected error, and nothing about the case changed (row, audit, notices…). */
export async function actRefused(client, id, action, payload, status, code, field) {
  const before = caseFootprint(id);
  const res = await act(client, id, action, payload, before.row.version);
  const e = expectCaseError(res, status, code, field);
  assert.deepEqual(caseFootprint(id), before, `${client.name} ${action} refused (${code}) must change nothing`);
  return e;
}

/** Members of a household that qualifies for whole-household dibao in 370725 (no income; fixed ages). */
export function dibaoMembers(extra = {}) {
  return [
    personInput({ relation: 'head', citizen_id: citizenId({ birth: randomBirth(1971, 1984) }), ...(extra.head || {}) }),
    personInput({ relation: 'spouse', citizen_id: citizenId({ birth: randomBirth(1971, 1984) }), ...(extra.spouse || {}) }),
  ];
}

/** A random birth date YYYYMMDD between 1 January of `fromYear` and 28 December of `toYear`. */
export function randomBirth(fromYear, toYear) {
  const y = randomInt(fromYear, toYear + 1), m = randomInt(1, 13), d = randomInt(1, 29);
  return `${y}${pad(m, 2)}${pad(d, 2)}`;
}

/** The town clerk of a village (demo users). */
export function clerkOf(village) { return village.startsWith(TOWN2) ? 'town2_clerk' : 'town_clerk'; }

/**
 * A fresh household and an application in state `received`.
 * opts: village, members, programs, by (username filing it), household (use this one).
 */
export async function newCase(opts = {}) {
  const village = opts.village || VILLAGE1;
  const clerk = await as(clerkOf(village));
  const household = opts.household || await createHousehold(clerk, village, opts.members || dibaoMembers());
  const by = await as(opts.by || clerkOf(village));
  const body = { household_id: household.id, authorization: true, commitment: true, note: '测试申请' };
  if (opts.programs) body.programs = opts.programs;
  if (opts.channel) body.channel = opts.channel;
  const res = await by.post('/applications', body);
  const app = expectStatus(res, 201, `${by.name} POST /applications`);
  assert.equal(app.state, 'received');
  return { household, app };
}

/** Moves the public notice of a case into the past (the 7 days are over), keeping the column format. */
export function ageNotice(id) {
  const r = appRow(id);
  assert.ok(r.notice_ends, `case ${id} has no notice_ends`);
  const rest = (s) => (s ? String(s).slice(10) : '');
  dbExec(`UPDATE applications SET notice_starts = ${sqlString('2020-01-01' + rest(r.notice_starts || r.notice_ends))},
    notice_ends = ${sqlString('2020-01-08' + rest(r.notice_ends))} WHERE id = ${Number(id)}`);
}

/** The objections of a case (GET as admin). */
export async function objectionsOf(id) { return (await getApp(id)).objections; }

/**
 * Drives a case of 乔官镇 along the happy path up to `target` with the right users.
 * opts: recommend ('approve'|'refuse'), escalate, decider (username for approve/refuse).
 */
export async function driveTo(id, target, opts = {}) {
  const path = opts.recommend === 'refuse'
    ? ['received', 'accepted', 'visited', 'verified', 'awaiting_decision']
    : ['received', 'accepted', 'visited', 'verified', 'public_notice', 'awaiting_decision'];
  let app;
  const step = async (username, action, payload, state) => { app = await actOk(await as(username), id, action, payload, state); };
  if (target === 'documents_requested') { await step('town_clerk', 'request_documents', wfPayload('request_documents'), target); return app; }
  if (target === 'withdrawn') { await step('town_clerk', 'withdraw', wfPayload('withdraw'), target); return app; }
  const final = ['enrolled', 'refused'].includes(target) ? 'awaiting_decision' : target;
  const stop = path.indexOf(final);
  assert.ok(stop >= 0, `driveTo ${target}`);
  for (let i = path.indexOf(appRow(id).state) + 1; i <= stop; i++) {
    const s = path[i];
    if (s === 'accepted') await step('town_clerk', 'accept', {}, s);
    else if (s === 'visited') await step('town_clerk', 'record_visit', wfPayload('record_visit'), s);
    else if (s === 'verified') await step('town_clerk', 'record_verification', wfPayload('record_verification'), s);
    else if (s === 'public_notice' || (s === 'awaiting_decision' && opts.recommend === 'refuse')) {
      await step('town_reviewer', 'town_opinion',
        { recommend: opts.recommend || 'approve', opinion: '镇街审核意见。', escalate: !!opts.escalate }, s);
    } else if (s === 'awaiting_decision') {
      ageNotice(id);
      await step('town_clerk', 'close_notice', {}, s);
    }
  }
  if (target === 'enrolled') await step(opts.decider || 'reviewer', 'approve', wfPayload('approve'), 'enrolled');
  if (target === 'refused') await step(opts.decider || 'reviewer', 'refuse', wfPayload('refuse'), 'refused');
  return app || await getApp(id);
}

/** GET /working-days?from=&days= → due (must succeed). */
export async function workingDays(from, days, client) {
  const c = client || await as('admin');
  const res = await c.get(`/working-days?from=${from}&days=${days}`);
  const body = expectStatus(res, 200, `working-days ${from}+${days}`);
  return body.due;
}

/** Balance of a town's reserve fund from GET /reserve-funds (as the given user). */
export async function reserveBalance(client, town) {
  const body = expectStatus(await client.get('/reserve-funds'), 200, 'reserve-funds');
  const f = body.items.find(i => i.town_code === town);
  assert.ok(f, `reserve fund of ${town} in ${JSON.stringify(body).slice(0, 300)}`);
  return Number(f.balance_fen);
}

/** SHA-256 (hex) of a string's UTF-8 bytes. */
export function sha256Hex(s) { return createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex'); }

/** An 18-character id anywhere in a text (a full citizen id must never appear on public pages). */
export const FULL_ID_RE = /\d{17}[\dXx]/;

/** A valid citizen id of another division (e.g. '110105' for 北京朝阳). */
export function citizenIdOf(division, birth = '19800101') {
  const first17 = `${division}${birth}${pad(randomInt(0, 1000), 3)}`;
  return first17 + checkChar(first17);
}

/**
 * Downloads an .xlsx export as `client` (a GET: the cookie suffices) and opens it with exceljs:
 * {status, headers, rows (the first sheet's rows as arrays of cell text), sheet (its name),
 * text (every sheet's cells, one per line)}, or {status, body} when refused.
 */
export async function downloadXlsx(client, path) {
  const res = await fetch(`${BASE}${API}${path}`, { headers: { cookie: client.cookieHeader() } });
  const buf = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) return { status: res.status, body: JSON.parse(buf.toString('utf8')) };
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf);
  const cellsOf = (row) => row.values.slice(1).map(v => (v === null || v === undefined ? '' : String(v)));
  const rows = [];
  wb.worksheets[0].eachRow((row) => rows.push(cellsOf(row)));
  const all = [];
  for (const ws of wb.worksheets) ws.eachRow((row) => all.push(...cellsOf(row)));
  return { status: res.status, headers: res.headers, rows, sheet: wb.worksheets[0].name, text: all.join('\n') };
}

// ---------------------------------------------------------------- a second server

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts another `doudi serve` on the suite's database, with `args` added (e.g. a short
 * --timeout); resolves once it answers /health with {port, base, proc, exited (a promise of
 * {code, signal}), log() (its output so far), kill()}.
 */
export async function startServer(args = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // --monitor-day 0: the suite's own server is the one that runs the monthly matching.
  const proc = spawn(BIN, ['serve', '--db', DB, '--listen', `127.0.0.1:${port}`, '--monitor-day', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  process.on('exit', kill);  // a failed test never leaves it running
  let up = false;
  for (let i = 0; i < 100 && !up; ++i) {
    up = await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    kill();
    throw new Error(`the second server did not start: ${log}`);
  }
  return { port, base, proc, exited, log: () => log, kill };
}

/**
 * Sends SIGTERM to a server from startServer and waits up to `ms` for it to exit: resolves with
 * {code, signal, ms}; if it is still running then, kills it and throws.
 */
export async function stopServer(server, ms = 30000) {
  const started = Date.now();
  server.proc.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, ms, null); });
  const exit = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  if (!exit) {
    server.kill();
    throw new Error(`the server did not exit within ${ms} ms of SIGTERM: ${server.log().slice(-2000)}`);
  }
  return { ...exit, ms: Date.now() - started };
}

// ---------------------------------------------------------------- issue 17: case access and workflow
// Error codes of Idempotency-Key (docs/api.md "Conventions").
Object.assign(ERROR_CODES, { idempotency_key_reused: 409, idempotency_in_progress: 409 });

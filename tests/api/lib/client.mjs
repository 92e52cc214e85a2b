// The HTTP client of the API suite (its own cookie jar and CSRF token), TOTP codes, and login:
// forced password changes and TOTP enrolment done on the way, the sessions of two-factor accounts
// shared by the suite's files, one logged-in client per user and file (as()); and the download of
// an .xlsx export.
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import fs from 'node:fs';
import path from 'node:path';
import { API, BASE, PASSWORD } from './env.mjs';
import { dbQuery, sqlString } from './db.mjs';

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

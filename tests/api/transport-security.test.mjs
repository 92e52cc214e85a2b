// The connection's defences (issue 17): a body is refused on its header when the route, the
// session or the role does not allow it, and bodies in flight share a memory budget (#2); only
// files inside the web root are served (#6); connections are capped and accept errors back off
// (#15); a JSON body needs its media type (a cross-site form cannot log a browser in); behind a
// TLS proxy (`serve --tls-proxy ADDR`) the cookie is Secure, answers carry HSTS, and the proxy's
// X-Forwarded-For is the client's address, from that proxy only. Raw sockets where fetch would
// normalise the request (paths) or send the body before reading the answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BASE, BIN, DB, PASSWORD, Client, expectError, expectStatus, login, startServer, stopServer, freePort,
  nextTotpCode, totpSecrets,
} from './lib.mjs';

const MiB = 1 << 20;

/**
 * Opens a connection to `port`, writes `head` (the request's header, CRLFs included), then
 * `bodyBytes` bytes of body in 1 MiB chunks honouring back-pressure (then, if `hold`, keeps the
 * connection open without sending the rest), and collects the answer.
 * Resolves when the server closes the connection or `waitMs` has passed:
 * {data, ms (to the first byte of the answer, or null), sentWhenAnswered, closed}.
 */
function rawExchange(port, head, { bodyBytes = 0, waitMs = 10000, body, hold = false } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    let data = '';
    let sent = 0;
    let firstAt = null;
    let sentWhenAnswered = null;
    let done = false;
    const socket = net.connect(port, '127.0.0.1');
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, ms: firstAt === null ? null : firstAt - started, sentWhenAnswered, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => {
      if (firstAt === null) { firstAt = Date.now(); sentWhenAnswered = sent; }
      data += d;
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
    socket.on('connect', async () => {
      socket.write(head);
      if (body !== undefined) { socket.write(body); return; }
      void hold;  // what is not sent is simply never sent
      const chunk = Buffer.alloc(MiB, 0x61);
      while (sent < bodyBytes && !done && !socket.destroyed) {
        const n = Math.min(MiB, bodyBytes - sent);
        sent += n;
        if (!socket.write(n === MiB ? chunk : chunk.subarray(0, n))) {
          await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
        }
      }
    });
  });
}

const statusOf = (data) => Number((/^HTTP\/1\.1 (\d{3})/.exec(data) || [])[1] || 0);
function bodyOf(data) {
  const at = data.indexOf('\r\n\r\n');
  try { return JSON.parse(data.slice(at + 4)); } catch { return null; }
}
function header(method, path, fields = {}) {
  let s = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(fields)) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

/** Peak and current resident memory of a process, in KiB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

/** CPU time (user + system) of a process so far, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime (fields 14, 15) in ticks of 1/100 s
}

/** Logs in on a second server; returns {cookie, csrf}. */
async function loginOn(base, username) {
  const creds = { username, password: PASSWORD };
  if (totpSecrets.has(username)) creds.totp_code = await nextTotpCode(username);  // county admin, auditor
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(creds),
  });
  assert.equal(res.status, 200, `login ${username}`);
  const body = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, csrf: body.csrf_token, setCookie: res.headers.getSetCookie(), headers: res.headers };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- #2 bodies before authentication

test('#2 unauthenticated uploads with a large Content-Length are answered 401 on their header: the server does not read them into memory', async (t) => {
  const server = await startServer();
  try {
    const before = memoryOf(server.proc.pid);
    const N = 24, SIZE = 16 * MiB;
    const head = header('POST', '/api/v1/feeds', { 'Content-Type': 'application/json', 'Content-Length': SIZE });
    const answers = await Promise.all(Array.from({ length: N }, () => rawExchange(server.port, head, { bodyBytes: SIZE })));
    const after = memoryOf(server.proc.pid);
    const grewMiB = (after.hwm - before.hwm) / 1024;
    t.diagnostic(`peak memory grew by ${grewMiB.toFixed(1)} MiB`);
    assert.ok(grewMiB < 48, `peak memory grew by ${grewMiB.toFixed(0)} MiB for ${N} refused uploads of ${SIZE / MiB} MiB`);
    for (const a of answers) {
      assert.equal(statusOf(a.data), 401, a.data.slice(0, 300));
      assert.equal(bodyOf(a.data)?.error?.code, 'unauthenticated');
    }
    // Answered without the body: 1 MiB of 16 sent, the rest never comes, the 401 does.
    const partial = await Promise.all(Array.from({ length: 8 }, () =>
      rawExchange(server.port, head, { bodyBytes: MiB, hold: true, waitMs: 3000 })));
    for (const a of partial) assert.equal(statusOf(a.data), 401, `no answer before the body: ${a.data.slice(0, 300)}`);
    // An invalid session is refused the same way.
    const forged = await rawExchange(server.port, header('POST', '/api/v1/feeds',
      { 'Content-Type': 'application/json', 'Content-Length': 8 * MiB, Cookie: 'doudi_session=forged' }), { waitMs: 3000 });
    assert.equal(statusOf(forged.data), 401, forged.data.slice(0, 300));
    // A public route keeps the small limit: 413 on the header, whoever asks.
    const login = await rawExchange(server.port, header('POST', '/api/v1/session',
      { 'Content-Type': 'application/json', 'Content-Length': 2 * MiB }), { waitMs: 3000 });
    assert.equal(statusOf(login.data), 413, login.data.slice(0, 300));
    assert.equal(bodyOf(login.data)?.error?.code, 'payload_too_large');
    // Unknown routes and wrong methods do not wait for their bodies either.
    for (const [method, path, status] of [['POST', '/api/v1/nothing', 404], ['PUT', '/api/v1/feeds', 405], ['POST', '/x.html', 404]]) {
      const a = await rawExchange(server.port, header(method, path, { 'Content-Type': 'application/json', 'Content-Length': MiB / 2 }),
        { waitMs: 3000 });
      assert.equal(statusOf(a.data), status, `${method} ${path}: ${a.data.slice(0, 300)}`);
      assert.ok(a.closed, `${method} ${path}: the connection is closed after the early answer`);
    }
  } finally {
    await stopServer(server).catch(() => {});
  }
});

test('#2 a signed-in user whose role may not upload feeds, or without the CSRF token, is refused before the body', async () => {
  const server = await startServer();
  try {
    for (const username of ['town_clerk', 'village1', 'auditor']) {
      const { cookie, csrf } = await loginOn(server.base, username);
      const a = await rawExchange(server.port, header('POST', '/api/v1/feeds', {
        'Content-Type': 'application/json', 'Content-Length': 8 * MiB, Cookie: cookie, 'X-CSRF-Token': csrf,
      }), { waitMs: 3000 });  // the header only: an answer within 3 s is one given before the body
      assert.equal(statusOf(a.data), 403, `${username}: ${a.data.slice(0, 300)}`);
      assert.equal(bodyOf(a.data)?.error?.code, 'permission_denied');
    }
    const admin = await loginOn(server.base, 'admin');
    const noCsrf = await rawExchange(server.port, header('POST', '/api/v1/feeds', {
      'Content-Type': 'application/json', 'Content-Length': 8 * MiB, Cookie: admin.cookie,
    }), { waitMs: 3000 });
    assert.equal(statusOf(noCsrf.data), 403, noCsrf.data.slice(0, 300));
    assert.equal(bodyOf(noCsrf.data)?.error?.code, 'csrf_failed');
    // The admin, allowed, is waited for: no answer before the body.
    const waiting = await rawExchange(server.port, header('POST', '/api/v1/feeds', {
      'Content-Type': 'application/json', 'Content-Length': 8 * MiB, Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf,
    }), { waitMs: 1500 });
    assert.equal(waiting.data, '', 'the allowed upload waits for its body');
  } finally {
    await stopServer(server).catch(() => {});
  }
});

test('#2 a feed upload over 1 MiB by a county admin still reaches the handler; other routes keep 1 MiB', async () => {
  const admin = await login('admin');
  const pad = 'x'.repeat(2 * MiB);
  // An invalid month: the handler read the 2 MiB body and answered about its content.
  expectError(await admin.post('/feeds', { source: 'death', month: '2026-13', filename: pad.slice(0, 10), csv_text: `a\n${pad}` }),
    400, 'invalid_argument', 'month');
  expectError(await admin.post('/households', { residence_address: pad }), 413, 'payload_too_large');
});

test('#2 bodies in flight share a memory budget (serve --max-body-memory): beyond it 503 busy, and the budget is given back', async () => {
  const server = await startServer(['--max-body-memory', '3']);
  try {
    const admin = await loginOn(server.base, 'admin');
    const body = JSON.stringify({ source: 'death', month: '2026-13', csv_text: 'y'.repeat(2 * MiB) });
    const head = header('POST', '/api/v1/feeds', {
      'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf,
    });
    // The first holds 2 MiB of the 3 while its body has not arrived.
    const socket = net.connect(server.port, '127.0.0.1');
    let first = '';
    socket.on('data', (d) => { first += d; });
    const firstClosed = new Promise((r) => socket.on('close', r));
    await new Promise((r) => socket.on('connect', r));
    socket.write(head);
    await sleep(300);
    const second = await rawExchange(server.port, head, { waitMs: 3000 });
    assert.equal(statusOf(second.data), 503, second.data.slice(0, 300));
    const e = bodyOf(second.data)?.error;
    assert.equal(e?.code, 'busy');
    assert.match(e?.message, /[\u4e00-\u9fff]/, 'a Chinese message');
    // The first sends its body and is answered by the handler; then there is room again.
    socket.end(body);
    for (let i = 0; i < 50 && !first.includes('\r\n\r\n{'); ++i) await sleep(100);
    assert.equal(statusOf(first), 400, first.slice(0, 300));
    socket.destroy();
    await firstClosed;
    const third = await rawExchange(server.port, head, { body, waitMs: 5000 });
    assert.equal(statusOf(third.data), 400, third.data.slice(0, 300));
    assert.equal(bodyOf(third.data)?.error?.field, 'month');
  } finally {
    await stopServer(server).catch(() => {});
  }
});

test('#2 requests without a session hold at most a quarter of the bodies\' budget: anonymous slow bodies cannot keep staff out', async () => {
  const server = await startServer(['--max-body-memory', '4']);
  const held = [];
  try {
    const anonHead = header('POST', '/api/v1/public/applications', { 'Content-Type': 'application/json', 'Content-Length': 700 * 1024 });
    const hold = (head) => {
      const s = net.connect(server.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('connect', () => s.write(head));
      held.push(s);
    };
    hold(anonHead);  // 0.7 of the 1 MiB anonymous share, its body never sent
    await sleep(300);
    const second = await rawExchange(server.port, anonHead, { waitMs: 3000 });
    assert.equal(statusOf(second.data), 503, second.data.slice(0, 300));
    assert.equal(bodyOf(second.data)?.error?.code, 'busy');
    // A county admin's upload of 2 MiB still has room: it is waited for, not refused.
    const admin = await loginOn(server.base, 'admin');
    const upload = await rawExchange(server.port, header('POST', '/api/v1/feeds', {
      'Content-Type': 'application/json', 'Content-Length': 2 * MiB, Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf,
    }), { waitMs: 1500 });
    assert.equal(upload.data, '', 'the signed-in upload waits for its body');
  } finally {
    for (const s of held) s.destroy();
    await stopServer(server).catch(() => {});
  }
});

// ---------------------------------------------------------------- #6 files beside the web root

test('#6 only files inside the web root are served: no path without a leading slash, no sibling directory, no control byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'doudi-web-'));
  const root = join(dir, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>doudi</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  mkdirSync(join(dir, 'dist-private'));
  writeFileSync(join(dir, 'dist-private', 'secret.txt'), 'SECRET-SIBLING');
  mkdirSync(join(dir, 'dist.bak'));
  writeFileSync(join(dir, 'dist.bak', 'old.txt'), 'SECRET-BACKUP');
  const server = await startServer(['--web', root]);
  try {
    const get = (target) => rawExchange(server.port, header('GET', target, { Connection: 'close' }), { waitMs: 3000 });
    for (const target of ['-private/secret.txt', '.bak/old.txt', '-private%2Fsecret.txt', '/../dist-private/secret.txt',
      '/%2e%2e/dist-private/secret.txt', 'assets/app.js']) {
      const a = await get(target);
      assert.ok(!a.data.includes('SECRET'), `${target}: ${a.data.slice(0, 300)}`);
      assert.ok([400, 404].includes(statusOf(a.data)), `${target}: ${a.data.slice(0, 300)}`);
    }
    for (const target of ['/index.html%00.png', '/index.html%00', '/assets/app.js%01', '/%0d%0aX:1']) {
      const a = await get(target);
      assert.ok([400, 404].includes(statusOf(a.data)), `${target}: ${a.data.slice(0, 300)}`);
      assert.doesNotMatch(a.data, /content-type: image\/png/i, target);
    }
    // What belongs to the web root still is served.
    const index = await get('/');
    assert.equal(statusOf(index.data), 200);
    assert.match(index.data, /<title>doudi<\/title>/);
    const js = await get('/assets/app.js');
    assert.equal(statusOf(js.data), 200);
    assert.match(js.data, /content-type: text\/javascript/i);
    const spa = await get('/households/12');
    assert.equal(statusOf(spa.data), 200);
    assert.match(spa.data, /<title>doudi<\/title>/);
  } finally {
    await stopServer(server).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- #15 connection cap

test('#15 serve --max-connections: beyond the cap a connection is answered 503 busy and closed; /health answers again once they close', async () => {
  const server = await startServer(['--max-connections', '8']);
  try {
    // Held connections: each has sent a request and keeps its connection alive.
    const sockets = [];
    const answers = [];
    for (let i = 0; i < 20; ++i) {
      const s = net.connect(server.port, '127.0.0.1');
      const a = { data: '', closed: false };
      s.on('data', (d) => { a.data += d; });
      s.on('close', () => { a.closed = true; });
      s.on('error', () => {});
      s.write(header('GET', '/api/v1/health'));
      sockets.push(s);
      answers.push(a);
      await sleep(20);
    }
    await sleep(1500);
    const ok = answers.filter((a) => statusOf(a.data) === 200);
    const busy = answers.filter((a) => statusOf(a.data) === 503);
    assert.ok(ok.length >= 1 && ok.length <= 8, `${ok.length} connections served with a cap of 8`);
    assert.ok(busy.length >= 12, `${busy.length} refused`);
    for (const a of busy) {
      assert.equal(bodyOf(a.data)?.error?.code, 'busy', a.data);
      assert.match(bodyOf(a.data).error.message, /[\u4e00-\u9fff]/);
      assert.ok(a.closed, 'a refused connection is closed');
    }
    for (const s of sockets) s.destroy();
    let health = null;
    for (let i = 0; i < 30 && statusOf(health?.data ?? '') !== 200; ++i) {
      await sleep(100);
      health = await rawExchange(server.port, header('GET', '/api/v1/health', { Connection: 'close' }), { waitMs: 2000 });
    }
    assert.equal(statusOf(health.data), 200, health.data);
  } finally {
    await stopServer(server).catch(() => {});
  }
});

test('#15 out of file descriptors (ulimit -n 64), a flood of connections does not make the accept loop spin, and /health answers after it', async (t) => {
  const port = await freePort();
  const proc = spawn('sh', ['-c', 'ulimit -n 64 && exec "$0" "$@"', BIN, 'serve', '--db', DB, '--listen', `127.0.0.1:${port}`,
    '--monitor-day', '0', '--threads', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  process.on('exit', kill);
  const health = () => rawExchange(port, header('GET', '/api/v1/health', { Connection: 'close' }), { waitMs: 2000 });
  const sockets = [];
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; ++i) {
      up = statusOf((await health()).data) === 200;
      if (!up) await sleep(100);
    }
    assert.ok(up, `the server did not start: ${log}`);
    for (let i = 0; i < 300; ++i) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(1000);
    const cpu0 = cpuSeconds(proc.pid);
    await sleep(2000);
    const cpu = cpuSeconds(proc.pid) - cpu0;
    t.diagnostic(`CPU while flooded: ${cpu.toFixed(2)} s in 2 s`);
    assert.ok(cpu < 0.2, `the server used ${cpu.toFixed(2)} s of CPU in 2 s while flooded`);
    for (const s of sockets) s.destroy();
    let ok = false;
    for (let i = 0; i < 50 && !ok; ++i) {
      ok = statusOf((await health()).data) === 200;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, `/health does not answer after the flood: ${log.slice(-2000)}`);
  } finally {
    for (const s of sockets) s.destroy();
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10000)]);
    kill();
  }
});

// ---------------------------------------------------------------- JSON bodies need their media type

test('a JSON body needs Content-Type application/json: a cross-site form (text/plain) cannot log in; 415 unsupported_media_type', async () => {
  const body = JSON.stringify({ username: 'town_clerk', password: PASSWORD });  // a password-only account
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
    const headers = type ? { 'content-type': type } : {};
    const res = await fetch(`${BASE}/api/v1/session`, { method: 'POST', headers, body: type ? body : Buffer.from(body) });
    const text = await res.text();
    assert.equal(res.status, 415, `${type}: ${text}`);
    assert.equal(res.headers.getSetCookie().length, 0, `${type}: no session cookie`);
    const e = JSON.parse(text).error;
    assert.equal(e.code, 'unsupported_media_type');
    assert.match(e.message, /[\u4e00-\u9fff]/);
  }
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
    const res = await fetch(`${BASE}/api/v1/session`, { method: 'POST', headers: { 'content-type': type }, body });
    assert.equal(res.status, 200, `${type}: ${await res.text()}`);
  }
  // A signed-in write too.
  const admin = await login('admin');
  const res = await admin.request('POST', '/households', { raw: '{}', headers: { 'content-type': 'text/plain' } });
  expectError(res, 415, 'unsupported_media_type');
});

// ---------------------------------------------------------------- behind a TLS proxy

test('serve --tls-proxy ADDR: Secure cookie and HSTS; X-Forwarded-For is the client address only from that proxy', async () => {
  // Without the option (the suite's server): no Secure, no HSTS.
  const plain = new Client('town_clerk');
  const res = await plain.post('/session', { username: 'town_clerk', password: PASSWORD });
  expectStatus(res, 200);
  assert.ok(res.headers.getSetCookie().every((c) => !/;\s*secure/i.test(c)), res.headers.getSetCookie().join(' | '));
  assert.equal(res.headers.get('strict-transport-security'), null);

  const proxied = await startServer(['--tls-proxy', '127.0.0.1']);
  const elsewhere = await startServer(['--tls-proxy', '10.9.9.9']);
  try {
    // A path of its own per request: its access line is found in the log once written.
    const viaProxy = async (server, xff, tag) => {
      const r = await fetch(`${server.base}/api/v1/nothing-${tag}`, { headers: { 'x-forwarded-for': xff } });
      assert.equal(r.status, 404);
      for (let i = 0; i < 30 && !server.log().includes(`/api/v1/nothing-${tag} 404`); ++i) await sleep(100);
      const line = server.log().split('\n').find((l) => l.includes(`/api/v1/nothing-${tag} 404`));
      assert.ok(line, `the access line of ${tag}`);
      return { r, line };
    };
    const s = await loginOn(proxied.base, 'town_clerk');
    assert.ok(s.setCookie.some((c) => /^doudi_session=/.test(c) && /;\s*Secure(;|$)/.test(c)), s.setCookie.join(' | '));
    assert.match(s.headers.get('strict-transport-security') || '', /max-age=\d{7,}/);
    // The peer is the proxy: the address the proxy appended (the last) is the client's.
    const p = await viaProxy(proxied, '198.51.100.23, 203.0.113.7', 'p');
    assert.match(p.r.headers.get('strict-transport-security') || '', /max-age=\d{7,}/);
    assert.match(p.line, / ip=203\.0\.113\.7\b/);
    assert.doesNotMatch(p.line, /198\.51\.100\.23/);
    // A proxy elsewhere: this peer is not it, so its X-Forwarded-For is not believed.
    const q = await viaProxy(elsewhere, '203.0.113.8', 'q');
    assert.match(q.line, / ip=127\.0\.0\.1\b/);
    assert.doesNotMatch(elsewhere.log(), /203\.0\.113\.8/);
    const e = await loginOn(elsewhere.base, 'town_clerk');
    assert.ok(e.setCookie.some((c) => /;\s*Secure(;|$)/.test(c)), 'still served over TLS by its proxy: Secure');
  } finally {
    await stopServer(proxied).catch(() => {});
    await stopServer(elsewhere).catch(() => {});
  }
});

test('without --tls-proxy, X-Forwarded-For is ignored', async () => {
  const server = await startServer();
  try {
    const r = await fetch(`${server.base}/api/v1/nothing-z`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('strict-transport-security'), null);
    for (let i = 0; i < 30 && !server.log().includes('/api/v1/nothing-z 404'); ++i) await sleep(100);
    assert.match(server.log(), /GET \/api\/v1\/nothing-z 404 .* ip=127\.0\.0\.1\b/);
    assert.doesNotMatch(server.log(), /203\.0\.113\.9/);
  } finally {
    await stopServer(server).catch(() => {});
  }
});

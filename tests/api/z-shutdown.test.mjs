// Graceful shutdown under load: SIGTERM while requests are arriving. A request the server runs
// is answered before it exits; one it does not run is not written. So every household written
// got its 201, and the server exits 0. (The suite's own server is stopped by tests/run.sh with
// nothing in flight; this test starts a second server on the same database.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { BIN, Client, DB, PASSWORD, VILLAGE1, dbCount, expectStatus, householdInput, sqlString, uniq } from './lib.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Sends one raw HTTP request; resolves once it is written, with a promise of all the bytes answered. */
function sendRaw(port, head, body) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    const answered = new Promise((done) => {
      socket.on('data', (d) => chunks.push(d));
      socket.on('close', () => done(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', () => {});  // a reset: whatever arrived before it counts
      socket.setTimeout(20000, () => socket.destroy());
    });
    socket.on('connect', () => socket.write(head + body, (err) => (err ? reject(err) : resolve({ answered }))));
    socket.once('error', reject);
  });
}

test('SIGTERM while requests arrive: every household written was answered 201, and the server exits 0', async (t) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(BIN, ['serve', '--db', DB, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; ++i) {
      up = await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, `the second server did not start: ${log}`);
    const client = new Client('village1');
    client.csrf = expectStatus(await client.post(`${base}/api/v1/session`, { username: 'village1', password: PASSWORD }), 200,
      'login').csrf_token;

    const marker = uniq('关停测试');
    const N = 40;
    const sent = await Promise.all(Array.from({ length: N }, () => {
      const body = JSON.stringify(householdInput(VILLAGE1, undefined, { residence_address: marker }));
      const head = `POST /api/v1/households HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `Cookie: ${client.cookieHeader()}\r\nX-CSRF-Token: ${client.csrf}\r\nConnection: close\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      return sendRaw(port, head, body);
    }));
    server.kill('SIGTERM');  // every request is on the wire

    const answers = await Promise.all(sent.map((s) => s.answered));
    const { code, signal } = await exited;
    assert.equal(signal, null, `the server was killed by ${signal}: ${log.slice(-2000)}`);
    assert.equal(code, 0, `the server exited with ${code}: ${log.slice(-2000)}`);

    const created = answers.filter((a) => a.startsWith('HTTP/1.1 201')).length;
    const other = answers.filter((a) => a !== '' && !a.startsWith('HTTP/1.1 201'));
    assert.deepEqual(other.map((a) => a.split('\r\n')[0]), [], 'an answer is a 201 or nothing');
    const written = dbCount('households', `residence_address = ${sqlString(marker)}`);
    assert.equal(written, created, `${written} households written, ${created} answered 201, of ${N} sent`);
    t.diagnostic(`${created} of ${N} answered 201 and written; the others neither`);
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
});

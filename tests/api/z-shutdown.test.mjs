// Graceful shutdown under load: SIGTERM while requests are arriving. A request the server runs
// is answered before it exits; one it does not run is not written. So every household written
// got its 201, and the server exits 0. (The suite's own server is stopped by tests/run.sh with
// nothing in flight; this test starts a second server on the same database.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  Client, PASSWORD, VILLAGE1, dbCount, expectStatus, householdInput, sqlString, startServer, stopServer, uniq,
} from './lib.mjs';

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

/** Logs village1 in on `base`; the client, with its CSRF token. */
async function loggedIn(base) {
  const client = new Client('village1');
  client.csrf = expectStatus(await client.post(`${base}/api/v1/session`, { username: 'village1', password: PASSWORD }), 200,
    'login').csrf_token;
  return client;
}

/** A raw POST of a new household at `marker`'s address: {head, body}. */
function householdPost(port, client, marker) {
  const body = JSON.stringify(householdInput(VILLAGE1, undefined, { residence_address: marker }));
  const head = `POST /api/v1/households HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Cookie: ${client.cookieHeader()}\r\nX-CSRF-Token: ${client.csrf}\r\nConnection: close\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return { head, body };
}

test('SIGTERM while requests arrive: every household written was answered 201, and the server exits 0', async (t) => {
  const server = await startServer();
  const { port, base } = server;
  try {
    const client = await loggedIn(base);
    const marker = uniq('关停测试');
    const N = 40;
    const sent = await Promise.all(Array.from({ length: N }, () => {
      const { head, body } = householdPost(port, client, marker);
      return sendRaw(port, head, body);
    }));
    const stopped = stopServer(server);  // SIGTERM: every request is on the wire
    stopped.catch(() => {});  // awaited below, after the answers

    const answers = await Promise.all(sent.map((s) => s.answered));
    const { code, signal } = await stopped;
    assert.equal(signal, null, `the server was killed by ${signal}: ${server.log().slice(-2000)}`);
    assert.equal(code, 0, `the server exited with ${code}: ${server.log().slice(-2000)}`);

    const created = answers.filter((a) => a.startsWith('HTTP/1.1 201')).length;
    const other = answers.filter((a) => a !== '' && !a.startsWith('HTTP/1.1 201'));
    assert.deepEqual(other.map((a) => a.split('\r\n')[0]), [], 'an answer is a 201 or nothing');
    const written = dbCount('households', `residence_address = ${sqlString(marker)}`);
    assert.equal(written, created, `${written} households written, ${created} answered 201, of ${N} sent`);
    t.diagnostic(`${created} of ${N} answered 201 and written; the others neither`);
  } finally {
    server.kill();
  }
});

test('SIGTERM with a client stalled in the middle of its request body: the server exits after --timeout, not 4x that', async () => {
  const server = await startServer(['--timeout', '2']);  // the body's own deadline: 8 s after its header
  const { port, base } = server;
  try {
    const marker = uniq('关停中断');
    const { head, body } = householdPost(port, await loggedIn(base), marker);
    // Half the body, then nothing: the header has been read, the body is pending.
    const stalled = await sendRaw(port, head, body.slice(0, body.length >> 1));
    await new Promise((r) => setTimeout(r, 300));
    const { code, signal, ms } = await stopServer(server, 20000);
    assert.equal(signal, null, `killed by ${signal}`);
    assert.equal(code, 0, `exited with ${code}: ${server.log().slice(-2000)}`);
    assert.ok(ms >= 1500 && ms < 6000, `exited ${ms} ms after SIGTERM (the shutdown bound is 2 s, the body's deadline 8 s)`);
    assert.equal(await stalled.answered, '', 'the cut request is not answered');
    assert.equal(dbCount('households', `residence_address = ${sqlString(marker)}`), 0, 'nor written');
  } finally {
    server.kill();
  }
});

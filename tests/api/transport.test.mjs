// The connection and the server's log: keep-alive (one connection serves several requests), the
// timeouts (a second server with `serve --timeout 1`), and an access log that carries no
// personal data (no query strings, no bodies). The log test needs DOUDI_SERVER_LOG, the file the
// server writes its log to (tests/run.sh sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  BASE, DB_KIND, PASSWORD, VILLAGE1, Client, as, createHousehold, expectError, expectStatus, householdInput, personInput,
  wrongCheck, citizenId, sqlitePath, startServer, stopServer,
} from './lib.mjs';

/** GET on a keep-alive agent; resolves with the status, the Connection header and whether the socket was reused. */
function get(agent, path) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, BASE), { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

test('keep-alive: one connection serves several requests', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const answers = [];
    for (let i = 0; i < 3; ++i) answers.push(await get(agent, '/api/v1/health'));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.deepEqual(answers.map((a) => a.reused), [false, true, true], 'the second and third reuse the first connection');
    assert.ok(answers.every((a) => a.connection !== 'close'), JSON.stringify(answers));
  } finally {
    agent.destroy();
  }
});

const LOG = process.env.DOUDI_SERVER_LOG;

test('the server log holds no personal data: no citizen id or name searched, read or refused', { skip: !LOG && 'DOUDI_SERVER_LOG is not set' }, async () => {
  const village = await as('village1');
  const clerk = await as('town_clerk');
  const h = await createHousehold(village, VILLAGE1);
  const head = h.members.find((m) => m.relation === 'head');
  for (const q of [head.citizen_id, head.name]) {
    const res = await clerk.get(`/households?q=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.items.some((x) => x.id === h.id), `found by ${q}`);
  }
  assert.equal((await clerk.get(`/households/${h.id}`)).status, 200);
  // A refused write: its body named a person and a wrong citizen id.
  const refused = wrongCheck(citizenId());
  const bad = householdInput(VILLAGE1, [personInput({ relation: 'head', citizen_id: refused })]);
  expectError(await village.post('/households', bad), 400, 'invalid_argument', 'members[0].citizen_id');

  // The access line of the read is there (the log is the right file, and written), the data not.
  let log = '';
  for (let i = 0; i < 50 && !log.includes(`GET /api/v1/households/${h.id} 200`); ++i) {
    await new Promise((r) => setTimeout(r, 100));
    log = readFileSync(LOG, 'utf8');
  }
  assert.ok(log.includes(`GET /api/v1/households/${h.id} 200`), 'the access line of the read');
  assert.ok(log.includes('POST /api/v1/households 400'), 'the access line of the refused write');
  for (const secret of [head.citizen_id, head.citizen_id.slice(0, 14), head.name, encodeURIComponent(head.name), refused,
    bad.members[0].name, bad.phone]) {
    assert.ok(!log.includes(secret), `the log holds ${secret}`);
  }
});

/** Opens a connection, writes `text`, and resolves when the server closes it: {data, ms}. */
function untilClosed(port, text) {
  const started = Date.now();
  return new Promise((resolve) => {
    let data = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (d) => { data += d; });
    socket.on('close', () => resolve({ data, ms: Date.now() - started }));
    socket.on('error', () => {});
    socket.setTimeout(15000, () => socket.destroy());
  });
}

test('serve --timeout: a header that does not arrive in time, and an idle kept-alive connection, are closed', async () => {
  const server = await startServer(['--timeout', '1']);
  try {
    // No blank line: the header never ends.
    const stalled = await untilClosed(server.port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n');
    assert.equal(stalled.data, '');
    assert.ok(stalled.ms >= 800 && stalled.ms < 5000, `closed after ${stalled.ms} ms`);
    // A whole request is answered; the connection, kept alive, is closed once idle for the timeout.
    const idle = await untilClosed(server.port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(idle.data, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(idle.data, /connection: close/i);
    assert.ok(idle.ms >= 800 && idle.ms < 5000, `closed after ${idle.ms} ms`);
  } finally {
    await stopServer(server).catch(() => {});  // not what these tests are about; killed if it hangs
  }
});

test('an answer ready after the request body\'s deadline is still sent (SQLite: the read log waits for a lock held elsewhere)',
  { skip: DB_KIND !== 'sqlite' && 'the lock is a SQLite file lock' }, async () => {
    const h = await createHousehold(await as('village1'), VILLAGE1);
    const server = await startServer(['--timeout', '1']);  // the body's deadline: 4 s after the header
    // Another process holds the write lock: the read of the household waits for its read log
    // (5 s busy timeout), then answers 503, after the request's 4 s.
    const holder = spawn('sqlite3', [sqlitePath()], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const client = new Client('village1');
      client.csrf = expectStatus(await client.post(`${server.base}/api/v1/session`, { username: 'village1', password: PASSWORD }),
        200, 'login').csrf_token;
      await new Promise((resolve, reject) => {
        holder.stdout.on('data', (d) => { if (String(d).includes('locked')) resolve(); });
        holder.on('exit', () => reject(new Error('sqlite3 ended before it held the lock')));
        holder.stdin.write(".timeout 10000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n");
      });
      const started = Date.now();
      const res = await client.get(`${server.base}/api/v1/households/${h.id}`);
      const ms = Date.now() - started;
      expectError(res, 503, 'unavailable');
      assert.ok(ms >= 4000, `answered after ${ms} ms: the test needs an answer later than the body's deadline`);
    } finally {
      holder.stdin.end('COMMIT;\n.quit\n');
      await stopServer(server).catch(() => {});  // not what these tests are about; killed if it hangs
    }
  });

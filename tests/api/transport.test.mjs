// The connection and the server's log: keep-alive (one connection serves several requests) and
// an access log that carries no personal data (no query strings, no bodies). The log test needs
// DOUDI_SERVER_LOG, the file the server writes its log to (tests/run.sh sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { BASE, VILLAGE1, as, createHousehold, expectError, householdInput, personInput, wrongCheck, citizenId } from './lib.mjs';

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

// Rate limits of the public routes (issue 17 #1 and #11), on a second server with small limits
// (the suite's own server keeps the defaults, docs/api.md "Public"):
//   - the progress lookup needs the phone's last four digits (the public notice shows the id's
//     first 6 and last 4 characters: the id alone was guessed in ~1,300 tries);
//   - failed lookups are limited per case number (whatever the address) and per client address
//     (across case numbers); beyond a limit even the right answer is 429 with Retry-After;
//   - online applications are limited per client address and in all; a refused (400) one does
//     not count.
// Client addresses are told apart by binding the client to 127.0.0.x (Linux routes all of
// 127/8 to the loopback interface).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  Client, expectError, expectStatus, citizenId, chineseName, randomBirth, VILLAGE1, dbCount, sqlString,
  startServer, stopServer,
} from './lib.mjs';

const LIMITS = {
  perCase: 3, perAddress: 5, lookupWindow: 600, submitsPerAddress: 2, submitsTotal: 3, submitWindow: 900,
};
let srv;

before(async () => {
  srv = await startServer([
    '--public-lookup-failures', String(LIMITS.perCase),
    '--public-lookup-failures-per-address', String(LIMITS.perAddress),
    '--public-lookup-window', String(LIMITS.lookupWindow),
    '--public-submits-per-address', String(LIMITS.submitsPerAddress),
    '--public-submits-total', String(LIMITS.submitsTotal),
    '--public-submit-window', String(LIMITS.submitWindow),
  ]);
});
after(async () => { if (srv) await stopServer(srv); });

/** A request to the second server (or `opts.server`) from the local address `from` (e.g. '127.0.0.5'). */
function call(from, method, path, json, opts = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${(opts.server || srv).base}/api/v1${path}`);
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers = { accept: 'application/json', ...(opts.headers || {}) };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = http.request(url, { method, headers, localAddress: from, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let parsed;
        try { parsed = JSON.parse(text); } catch { parsed = text; }
        resolve({ status: res.statusCode, body: parsed, text, retryAfter: res.headers['retry-after'] });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function onlineInput(overrides = {}) {
  return {
    name: chineseName(),
    citizen_id: citizenId({ birth: randomBirth(1960, 1975) }),
    phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    village_code: VILLAGE1,
    area: 'rural',
    programs: ['dibao'],
    description: '测试：限流',
    ...overrides,
  };
}

/** An online application submitted to the suite's own server: {input, case_no}. */
async function submitted() {
  const input = onlineInput();
  const body = expectStatus(await new Client('public').post('/public/applications', input), 201, 'online application');
  return { input, case_no: body.case_no };
}

const last4 = (phone) => phone.slice(-4);
const lookup = (from, a, { cid = a.input.citizen_id, phone = last4(a.input.phone), caseNo = a.case_no } = {}) =>
  call(from, 'GET', `/public/applications/${encodeURIComponent(caseNo)}?citizen_id=${cid}&phone_last4=${phone}`);

/** 429 too_many_requests with a Chinese message and a Retry-After within the window. */
function expect429(res, window, what) {
  assert.equal(res.status, 429, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body?.error?.code, 'too_many_requests', what);
  assert.match(res.body.error.message, /[\u4e00-\u9fff]/, `${what}: a Chinese message`);
  const wait = Number(res.retryAfter);
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= window, `${what}: Retry-After ${res.retryAfter}`);
}

test('the progress lookup needs the last four phone digits: the right id with other digits is a 404 like an unknown case', async () => {
  const a = await submitted();
  const from = '127.0.0.2';
  const noPhone = await call(from, 'GET', `/public/applications/${encodeURIComponent(a.case_no)}?citizen_id=${a.input.citizen_id}`);
  expectError(noPhone, 400, 'invalid_argument', 'phone_last4');
  const digits = last4(a.input.phone);
  const wrong = await lookup(from, a, { phone: String((Number(digits) + 5000) % 10000).padStart(4, '0') });
  expectError(wrong, 404, 'not_found');
  const unknown = await lookup(from, a, { caseNo: '370725-2099-888888' });
  expectError(unknown, 404, 'not_found');
  assert.deepEqual(wrong.body, unknown.body, 'no difference between a wrong phone and no such case');
  const ok = expectStatus(await lookup(from, a), 200, 'right id and digits');
  assert.equal(ok.case_no, a.case_no);
});

test('failed lookups are limited per case: after N wrong tries from other addresses the right answer is 429 (Retry-After)', async () => {
  const a = await submitted();
  const b = await submitted();
  // one wrong try from each of N addresses: the attacker changes address, the case keeps count
  for (let i = 0; i < LIMITS.perCase; ++i)
    expectError(await lookup(`127.0.0.${10 + i}`, a, { cid: citizenId() }), 404, 'not_found');
  const refused = await lookup('127.0.0.20', a);
  expect429(refused, LIMITS.lookupWindow, 'the right answer after the case\'s failures');
  // the address that asks is not itself limited: another case answers
  expectStatus(await lookup('127.0.0.20', b), 200, 'another case from the same address');
  // a wrong try on the locked case is refused the same way (no oracle while locked)
  expect429(await lookup('127.0.0.21', a, { cid: citizenId() }), LIMITS.lookupWindow, 'a wrong try on the locked case');
});

test('failed lookups are limited per client address across case numbers', async () => {
  const c = await submitted();
  const from = '127.0.0.30';
  for (let i = 0; i < LIMITS.perAddress - 1; ++i)
    expectError(await lookup(from, c, { caseNo: `370725-2099-${String(700000 + i)}` }), 404, 'not_found');
  expectError(await lookup(from, c, { cid: citizenId() }), 404, 'not_found');  // the 5th failure, on c itself
  expect429(await lookup(from, c), LIMITS.lookupWindow, 'the right answer from an address that failed N times');
  expect429(await lookup(from, c, { caseNo: '370725-2099-799999' }), LIMITS.lookupWindow, 'any case from that address');
  // the case itself had one failure only: another address gets its answer
  expectStatus(await lookup('127.0.0.31', c), 200, 'the same case from another address');
});

test('a parallel burst of wrong tries on one case passes exactly the limit', async () => {
  const d = await submitted();
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
    lookup(`127.0.0.${40 + i}`, d, { cid: citizenId() })));
  const statuses = results.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 404).length, LIMITS.perCase, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, 12 - LIMITS.perCase, statuses.join(','));
});

test('X-Forwarded-For names the client only from a --trusted-proxy peer; from anyone else it is ignored', async () => {
  const e = await submitted();
  const wrongTry = (from, xff, server) => call(from, 'GET',
    `/public/applications/${encodeURIComponent(`370725-2099-${600000 + Math.floor(Math.random() * 99999)}`)}?citizen_id=${e.input.citizen_id}&phone_last4=0000`,
    undefined, { server, headers: { 'x-forwarded-for': xff } });
  // srv trusts no proxy: a client sending a new X-Forwarded-For each time is still one address
  for (let i = 0; i < LIMITS.perAddress; ++i) expectError(await wrongTry('127.0.0.80', `198.51.100.${i + 1}`), 404, 'not_found');
  expect429(await wrongTry('127.0.0.80', '198.51.100.99'), LIMITS.lookupWindow, 'a spoofed X-Forwarded-For does not help');
  // behind a trusted proxy (127.0.0.1 here) each forwarded client has its own count
  const proxied = await startServer(['--trusted-proxy', '127.0.0.1', '--public-lookup-failures-per-address', '2']);
  try {
    for (let i = 0; i < 2; ++i) expectError(await wrongTry('127.0.0.1', '10.0.0.5, 203.0.113.7', proxied), 404, 'not_found');
    expect429(await wrongTry('127.0.0.1', '203.0.113.7', proxied), 900, 'the forwarded client after its failures');
    expectError(await wrongTry('127.0.0.1', '203.0.113.8', proxied), 404, 'not_found');  // another client behind the proxy
    expectStatus(await call('127.0.0.1', 'GET', `/public/applications/${encodeURIComponent(e.case_no)}?citizen_id=${e.input.citizen_id}&phone_last4=${last4(e.input.phone)}`,
      undefined, { server: proxied, headers: { 'x-forwarded-for': '203.0.113.9' } }), 200);
  } finally {
    await stopServer(proxied);
  }
});

test('online applications are limited per client address and in all (429 with Retry-After); a refused one does not count', async () => {
  const before = dbCount('applications', "channel = 'online'");
  const from = '127.0.0.60';
  expectError(await call(from, 'POST', '/public/applications', onlineInput({ name: '' })), 400, 'invalid_argument', 'name');
  const made = [];
  for (let i = 0; i < LIMITS.submitsPerAddress; ++i) {
    const r = await call(from, 'POST', '/public/applications', onlineInput());
    made.push(expectStatus(r, 201, `application ${i + 1} from one address`).case_no);
  }
  const third = await call(from, 'POST', '/public/applications', onlineInput());
  expect429(third, LIMITS.submitWindow, 'one application too many from one address');
  // the overall limit: one more from another address fills it, the next address is refused
  made.push(expectStatus(await call('127.0.0.61', 'POST', '/public/applications', onlineInput()), 201).case_no);
  expect429(await call('127.0.0.62', 'POST', '/public/applications', onlineInput()), LIMITS.submitWindow,
    'beyond the overall limit');
  assert.equal(dbCount('applications', "channel = 'online'"), before + made.length, 'only the accepted ones are written');
  for (const n of made) assert.equal(dbCount('applications', `case_no = ${sqlString(n)}`), 1);
});

// Notices (issue 4, docs/workflow.md "Notices", docs/api.md "Notices"): the acceptance notice
// (受理告知书) and the refusal notice (不予审批告知书) with its reasons and the rights of
// administrative review and litigation, printable as text/html, archived unchanged with SHA-256.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, ISO_TS, dbQuery, getApp, actOk, actRefused, newCase, driveTo, sha256Hex, BASE,
} from './lib.mjs';

let acceptance; // {app, notice} of the first test

function checkArchived(notice) {
  assert.match(notice.sha256, /^[0-9a-f]{64}$/);
  assert.equal(sha256Hex(notice.html), notice.sha256, 'sha256 of the html as served');
  const [row] = dbQuery(`SELECT html, sha256, kind FROM notices WHERE id = ${Number(notice.id)}`);
  assert.equal(row.html, notice.html, 'served html = stored html');
  assert.equal(row.sha256, notice.sha256);
  assert.equal(sha256Hex(row.html), row.sha256, 'stored sha256 matches the stored html');
  assert.equal(row.kind, notice.kind);
}

async function printed(client, id) {
  const res = await client.request('GET', `/notices/${id}/print`, { headers: { accept: 'text/html' } });
  assert.equal(res.status, 200, `print: ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') || '', /^text\/html/i);
  return res.text;
}

test('accept produces the acceptance notice (受理告知书): case number, archived with its SHA-256, printable', async () => {
  const { app } = await newCase();
  const clerk = await as('town_clerk');
  const acc = await actOk(clerk, app.id, 'accept', {}, 'accepted');
  const full = await getApp(app.id, clerk);
  const refs = full.notices.filter(n => n.kind === 'acceptance');
  assert.equal(refs.length, 1, `one acceptance notice: ${JSON.stringify(full.notices)}`);
  assert.match(refs[0].created_at, ISO_TS);
  const notice = expectStatus(await clerk.get(`/notices/${refs[0].id}`), 200, 'GET notice');
  assert.equal(String(notice.id), String(refs[0].id));
  assert.equal(notice.kind, 'acceptance');
  assert.equal(String(notice.application_id), String(app.id));
  assert.match(notice.created_at, ISO_TS);
  assert.match(notice.html, /受理告知书/);
  assert.ok(notice.html.includes(app.case_no), 'case number on the notice');
  assert.ok(notice.html.includes(app.applicant_name), 'applicant on the notice');
  assert.ok(notice.html.includes(acc.due_date) || notice.html.includes(acc.accepted_at.slice(0, 10)), 'dates on the notice');
  checkArchived(notice);
  const page = await printed(clerk, notice.id);
  assert.equal(page, notice.html, 'the print page is the archived page');
  assert.match(page, /<html/i);
  acceptance = { app, notice };
});

test('notices are region-scoped: another village or town → 404; the village of the case may read', async () => {
  const { notice } = acceptance;
  const missing = await (await as('village2')).get('/notices/987654321');
  expectError(missing, 404, 'not_found');
  for (const u of ['village2', 'village3', 'town2_clerk']) {
    const c = await as(u);
    const r = await c.get(`/notices/${notice.id}`);
    expectError(r, 404, 'not_found');
    assert.deepEqual(r.body, missing.body);
    expectError(await c.get(`/notices/${notice.id}/print`), 404, 'not_found');
  }
  const v1 = expectStatus(await (await as('village1')).get(`/notices/${notice.id}`), 200);
  assert.equal(v1.html, notice.html);
  // no login → 401
  const anon = await fetch(`${BASE}/api/v1/notices/${notice.id}`);
  assert.equal(anon.status, 401);
});

test('refuse needs reasons; the refusal notice (不予审批告知书) carries case number, reasons and the rights of review and litigation', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'awaiting_decision', { recommend: 'refuse' });
  const reviewer = await as('reviewer');
  await actRefused(reviewer, app.id, 'refuse', {}, 400, 'invalid_argument', 'reasons');
  await actRefused(reviewer, app.id, 'refuse', { reasons: '' }, 400, 'invalid_argument', 'reasons');
  const reasons = `经核对，家庭人均月收入高于当地最低生活保障标准（核对编号 ${Date.now()}）。`;
  const done = await actOk(reviewer, app.id, 'refuse', { reasons }, 'refused');
  assert.match(done.decided_at, ISO_TS);
  const full = await getApp(app.id, await as('town_clerk'));
  assert.equal(full.state, 'refused');
  assert.equal(full.enrollments.length, 0, 'no enrollment for a refused case');
  const refs = full.notices.filter(n => n.kind === 'refusal');
  assert.equal(refs.length, 1, `one refusal notice: ${JSON.stringify(full.notices)}`);
  const notice = expectStatus(await (await as('town_clerk')).get(`/notices/${refs[0].id}`), 200);
  assert.equal(notice.kind, 'refusal');
  assert.match(notice.html, /不予审批告知书/);
  assert.ok(notice.html.includes(app.case_no), 'case number');
  assert.ok(notice.html.includes(reasons), 'the reasons, verbatim');
  assert.match(notice.html, /行政复议/);
  assert.match(notice.html, /行政诉讼/);
  assert.match(notice.html, /60\s*日|六十日|60\s*天/, 'review within 60 days');
  assert.match(notice.html, /6\s*个月|六个月/, 'litigation within 6 months');
  checkArchived(notice);
  assert.equal(await printed(reviewer, notice.id), notice.html);
  // the case also kept its acceptance notice, unchanged
  assert.ok(full.notices.some(n => n.kind === 'acceptance'));
});

test('notices are archived unchanged: the acceptance notice is byte-identical after the case moved on', async () => {
  const { app, notice } = acceptance;
  await driveTo(app.id, 'enrolled');
  const again = expectStatus(await (await as('town_clerk')).get(`/notices/${notice.id}`), 200);
  assert.equal(again.html, notice.html);
  assert.equal(again.sha256, notice.sha256);
  assert.equal(again.created_at, notice.created_at);
  checkArchived(again);
  const full = await getApp(app.id);
  const approval = full.notices.find(n => n.kind === 'approval');
  assert.ok(approval, 'approval notice (审批通知书)');
  const an = expectStatus(await (await as('town_clerk')).get(`/notices/${approval.id}`), 200);
  assert.match(an.html, /审批通知书/);
  assert.ok(an.html.includes(app.case_no));
  checkArchived(an);
});

test('reasons are escaped on the notice page (no markup injection)', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'awaiting_decision', { recommend: 'refuse' });
  const reasons = '收入超标<script>alert(1)</script><b>粗体</b>';
  await actOk(await as('reviewer'), app.id, 'refuse', { reasons }, 'refused');
  const ref = (await getApp(app.id)).notices.find(n => n.kind === 'refusal');
  const notice = expectStatus(await (await as('reviewer')).get(`/notices/${ref.id}`), 200);
  assert.ok(!notice.html.includes('<script>alert(1)</script>'), 'no raw script from the reasons');
  assert.ok(!notice.html.includes('<b>粗体</b>'), 'no raw markup from the reasons');
  assert.ok(notice.html.includes('&lt;script&gt;'), 'escaped');
  checkArchived(notice);
});

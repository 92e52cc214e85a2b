// Dynamic management of enrollments, scanned signed pages and cross-region verification
// requests (issue 4): review, change amount, suspend/resume, termination with gradual exit
// and its notice; attachments round-trip; a residence-permit application opens a request.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { as, BASE, API, DB, PASSWORD, expectError, expectStatus, createHousehold, personInput, dbExec, dbQuery, todayShanghai, uniq, runBin } from './lib.mjs';

async function enrolledCase() {
  const v1 = await as('village1'), clerk = await as('town_clerk'), rev = await as('town_reviewer');
  const h = await createHousehold(v1, undefined, [personInput({ relation: 'head' })]);
  let app = expectStatus(await v1.post('/applications', { household_id: h.id, authorization: true, commitment: true,
    programs: ['dibao'] }), 201);
  const act = async (who, action, extra = {}) => {
    app = expectStatus(await who.post(`/applications/${app.id}/actions`, { action, version: app.version, ...extra }), 200,
      action);
    return app;
  };
  await act(clerk, 'accept');
  await act(v1, 'record_visit', { staff: ['王一', '李二'], findings: '家中无收入' });
  await act(clerk, 'record_verification', { findings: '核对无异常' });
  await act(rev, 'town_opinion', { recommend: 'approve', opinion: '同意' });
  dbExec(`UPDATE applications SET notice_ends = '2000-01-01' WHERE id = ${app.id}`);
  await act(clerk, 'close_notice');
  await act(rev, 'approve', { opinion: '同意' });
  assert.equal(app.state, 'enrolled');
  return { app, h };
}

test('enrollment: review, change amount, suspend/resume, terminate with gradual exit and its notice', async () => {
  const { app } = await enrolledCase();
  const clerk = await as('town_clerk');
  const list = expectStatus(await clerk.get('/enrollments?status=active&page_size=200'), 200);
  let e = list.items.find(x => x.application_id === app.id && x.program === 'dibao');
  assert.ok(e, 'dibao enrollment listed');
  let version = 1;
  const act = async (action, extra = {}) => {
    const r = await clerk.post(`/enrollments/${e.id}/actions`, { action, version, ...extra });
    if (r.status === 200) version = r.body.version;
    return r;
  };
  const reviewed = expectStatus(await act('review', { stable: true }), 200);
  assert.ok(reviewed.next_review_date > todayShanghai());
  expectError(await act('change_amount', { monthly_fen: 50000 }), 400, 'invalid_argument', 'reason');
  assert.equal(expectStatus(await act('change_amount', { monthly_fen: 50000, reason: '收入变化' }), 200).monthly_fen, 50000);
  expectError(await clerk.post(`/enrollments/${e.id}/actions`, { action: 'resume', version: 1 }), 409, 'version_conflict');
  expectError(await act('resume'), 409, 'invalid_transition');
  expectStatus(await act('suspend', { reason: '外出务工待核实' }), 200);
  expectStatus(await act('resume'), 200);
  const ended = expectStatus(await act('terminate', { reason: '家庭收入超过低保标准', gradual_exit: true }), 200);
  assert.equal(ended.status, 'terminated');
  assert.ok(ended.ends_on > todayShanghai(), `gradual exit keeps paying: ${ended.ends_on}`);
  const full = expectStatus(await clerk.get(`/applications/${app.id}`), 200);
  const notice = full.notices.find(n => n.kind === 'termination');
  assert.ok(notice, 'termination notice archived');
  const n = expectStatus(await clerk.get(`/notices/${notice.id}`), 200);
  assert.match(n.html, /取消社会救助待遇告知书/);
  assert.match(n.html, /家庭收入超过低保标准/);
  assert.equal(createHash('sha256').update(n.html).digest('hex'), n.sha256);
  const v1 = await as('village1');
  expectError(await v1.post(`/enrollments/${e.id}/actions`, { action: 'suspend', version, reason: 'x' }), 403, 'permission_denied');
  const v2 = await as('village2');
  expectError(await v2.get(`/applications/${app.id}`), 404, 'not_found');
});

test('attachments: the scanned commitment is stored and served back unchanged', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1);
  const app = expectStatus(await v1.post('/applications', { household_id: h.id, authorization: true, commitment: true }), 201);
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5, 250, 251]);
  const up = await v1.post(`/applications/${app.id}/attachments`, { kind: 'commitment', filename: '承诺书.png',
    content_type: 'image/png', data_base64: bytes.toString('base64') });
  const meta = expectStatus(up, 201);
  assert.equal(meta.size_bytes, bytes.length);
  const res = await fetch(`${BASE}${API}/attachments/${meta.id}`, { headers: { cookie: v1.cookieHeader() } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  expectError(await v1.post(`/applications/${app.id}/attachments`, { kind: 'commitment', filename: 'x.exe',
    content_type: 'application/x-msdownload', data_base64: 'AAAA' }), 400, 'invalid_argument', 'content_type');
  expectError(await v1.post(`/applications/${app.id}/attachments`, { kind: 'commitment', filename: 'x.png',
    content_type: 'image/png', data_base64: '***' }), 400, 'invalid_argument', 'data_base64');
  const v2 = await as('village2');
  const other = await fetch(`${BASE}${API}/attachments/${meta.id}`, { headers: { cookie: v2.cookieHeader() } });
  assert.equal(other.status, 404);
});

test('a residence-permit application opens a verification request to the hukou county', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1);
  const app = expectStatus(await v1.post('/applications', { household_id: h.id, authorization: true, commitment: true,
    hukou_county: '371522' }), 201);
  expectError(await v1.post('/applications', { household_id: h.id, authorization: true, commitment: true,
    hukou_county: '3715' }), 400, 'invalid_argument', 'hukou_county');
  const full = expectStatus(await v1.get(`/applications/${app.id}`), 200);
  assert.equal(full.verification_requests.length, 1);
  assert.equal(full.verification_requests[0].to_county, '371522');
  const reviewer = await as('reviewer');
  const reqs = expectStatus(await reviewer.get('/verification-requests'), 200);
  const mine = reqs.items.find(r => r.application_id === app.id);
  assert.equal(mine.direction, 'outgoing');
  // 昌乐's reviewer cannot answer for 莘县.
  expectError(await reviewer.post(`/verification-requests/${mine.id}/answer`, { answer: '已核实' }), 404, 'not_found');
});

test('verification requests: what to verify travels with the request; each side sees its direction; the hukou county answers', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1);
  const subject = '请核实申请人在户籍地的房产、车辆及家庭成员情况';
  const app = expectStatus(await v1.post('/applications', { household_id: h.id, authorization: true, commitment: true,
    hukou_county: '371522', verification_subject: subject }), 201);
  // 莘县's county reviewer (created here) answers.
  const sx = uniq('sx_rev');
  const r = runBin(['user', 'add', '--db', DB, '--username', sx, '--password', PASSWORD, '--name', '莘县审核员',
    '--role', 'county_reviewer', '--region', '371522']);
  assert.equal(r.code, 0, r.stderr);
  const shen = await as(sx);
  const incoming = expectStatus(await shen.get('/verification-requests?direction=incoming&page_size=200'), 200);
  const req = incoming.items.find(x => x.application_id === app.id);
  assert.ok(req, 'the hukou county receives it');
  assert.deepEqual([req.direction, req.subject, req.from_county, req.case_no], ['incoming', subject, '370725', app.case_no]);
  assert.ok(incoming.items.every(x => x.direction === 'incoming'));
  const sxOut = expectStatus(await shen.get('/verification-requests?direction=outgoing&page_size=200'), 200);
  assert.ok(!sxOut.items.some(x => x.id === req.id), 'not among 莘县\'s outgoing');
  // 昌乐: outgoing for the county and for the town of the application; another town sees none of it.
  const out = expectStatus(await (await as('reviewer')).get('/verification-requests?direction=outgoing&page_size=200'), 200);
  assert.ok(out.items.some(x => x.id === req.id && x.direction === 'outgoing'));
  const inc = expectStatus(await (await as('reviewer')).get('/verification-requests?direction=incoming&page_size=200'), 200);
  assert.ok(!inc.items.some(x => x.id === req.id));
  const town = expectStatus(await (await as('town_clerk')).get('/verification-requests?page_size=200'), 200);
  assert.ok(town.items.some(x => x.id === req.id), 'the town of the application sees it');
  const town2 = expectStatus(await (await as('town2_clerk')).get('/verification-requests?page_size=200'), 200);
  assert.ok(!town2.items.some(x => x.id === req.id), 'another town does not');
  expectError(await shen.get('/verification-requests?direction=sideways'), 400, 'invalid_argument', 'direction');
  const ans = expectStatus(await shen.post(`/verification-requests/${req.id}/answer`, { answer: '经核实，户籍地无房产、无车辆。' }), 200);
  assert.equal(ans.status, 'answered');
  const full = expectStatus(await v1.get(`/applications/${app.id}`), 200);
  assert.equal(full.verification_requests[0].answer, '经核实，户籍地无房产、无车辆。');
  expectError(await shen.post(`/verification-requests/${req.id}/answer`, { answer: '再答' }), 404, 'not_found');
});

test('一户一案: the household file lists its applications, notices, visits, determinations and enrollments', async () => {
  const { app, h } = await enrolledCase();
  const clerk = await as('town_clerk');
  const file = expectStatus(await clerk.get(`/households/${h.id}/file`), 200);
  assert.equal(file.household_id, h.id);
  assert.ok(file.applications.some(a => a.id === app.id && a.state === 'enrolled' && a.authorization_signed === true));
  assert.ok(file.notices.some(n => n.kind === 'acceptance' && n.case_no === app.case_no));
  assert.ok(file.notices.some(n => n.kind === 'approval'));
  assert.equal(file.visits.length, 1);
  assert.equal(file.visits[0].visit.staff.length, 2);
  assert.equal(file.determinations[0].dibao, true);
  const e = file.enrollments.find(x => x.program === 'dibao');
  assert.equal(e.monthly_fen, file.determinations[0].dibao_monthly_fen);
  const v2 = await as('village2');
  expectError(await v2.get(`/households/${h.id}/file`), 404, 'not_found');
  expectError(await (await as('liaison')).get(`/households/${h.id}/file`), 403, 'permission_denied');
});

// Issue 19 #2: every decision on an enrollment has its notice, whatever its origin. An enrollment
// not decided in doudi (written directly, as the demo seed and the old systems' recipients are)
// is terminated with a 取消救助待遇告知书 naming the household head and the enrollment.
test('terminating an enrollment not decided in doudi archives its termination notice', async () => {
  const clerk = await as('town_clerk');
  const head = personInput({ relation: 'head' });
  const h = await createHousehold(await as('village1'), undefined, [head]);
  dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at)
    SELECT id, county_code, town_code, village_code, 'dibao', '["${head.citizen_id}"]', 60000, '2026-01', 'active',
    '2027-01-31', '2026-01-01T00:00:00+08:00', '2026-01-01T00:00:00+08:00' FROM households WHERE id = ${h.id}`);
  const [row] = dbQuery(`SELECT id FROM enrollments WHERE household_id = ${h.id}`);
  const ended = expectStatus(await clerk.post(`/enrollments/${row.id}/actions`,
    { action: 'terminate', version: 1, reason: '家庭人均收入超过低保标准' }), 200);
  assert.equal(ended.status, 'terminated');
  const file = expectStatus(await clerk.get(`/households/${h.id}/file`), 200);
  const notice = file.notices.find(n => n.kind === 'termination');
  assert.ok(notice, 'the household file lists the termination notice');
  assert.equal(notice.application_id, null);
  assert.equal(notice.case_no, null);
  const n = expectStatus(await clerk.get(`/notices/${notice.id}`), 200);
  assert.equal(n.application_id, null);
  assert.match(n.html, /取消社会救助待遇告知书/);
  assert.match(n.html, /家庭人均收入超过低保标准/);
  assert.ok(n.html.includes(head.name), 'names the household head');
  assert.match(n.html, new RegExp(`救助对象记录号：${row.id}<`));
  assert.equal(createHash('sha256').update(n.html).digest('hex'), n.sha256);
  // the notice is part of the household's village: another village's assistant does not see it
  expectError(await (await as('village2')).get(`/notices/${notice.id}`), 404, 'not_found');
  assert.equal(Number(dbQuery(`SELECT enrollment_id FROM notices WHERE id = ${notice.id}`)[0].enrollment_id), Number(row.id));
});

// The public pages (no login; issue 4, docs/api.md "Public", docs/workflow.md "Public notice"):
// the village public notice never shows a full citizen id; online self-service applications get a
// case number, their progress is visible with case number + id number + the phone's last four
// digits, and the town window links
// them to a registered household.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, as, expectError, expectStatus, citizenId, chineseName, maskId, ISO_TS, VILLAGE1, VILLAGE3, dbCount,
  sqlString, listAll, createHousehold, personInput, getApp, actOk, actRefused, act, appRow, newCase, driveTo,
  dibaoMembers, FULL_ID_RE, caseFootprint, randomBirth,
} from './lib.mjs';

const anon = () => new Client('public');

let noticed; // {household, app} in public notice

test('public notice: a case in 公示 is listed for its village without login, with a masked id only', async () => {
  const members = [...dibaoMembers(), personInput({ relation: 'child', citizen_id: citizenId({ birth: randomBirth(2010, 2013), check: 'X' }), in_school: true })];
  const { household, app } = await newCase({ members });
  await driveTo(app.id, 'public_notice');
  noticed = { household, app };
  const det = (await getApp(app.id)).determinations;
  const res = await anon().get(`/public/notices?village=${VILLAGE1}`);
  const body = expectStatus(res, 200, 'public notices');
  const item = body.items.find(i => i.case_no === app.case_no);
  assert.ok(item, 'the case is listed');
  const head = household.members.find(m => m.relation === 'head');
  assert.equal(item.name, head.name);
  assert.equal(item.household_size, 3);
  assert.ok(Array.isArray(item.programs) && item.programs.length >= 1, JSON.stringify(item.programs));
  assert.equal(item.monthly_fen, det.dibao.monthly_fen, 'proposed amount');
  assert.equal(item.citizen_id_masked, maskId(head.citizen_id));
  assert.match(item.notice_ends, /^\d{4}-\d{2}-\d{2}/);
  // never a full id: not of this household, not of any other case listed
  for (const m of household.members) assert.ok(!res.text.includes(m.citizen_id), `full id of ${m.relation} must not appear`);
  assert.ok(!FULL_ID_RE.test(res.text), `an 18-character id in the public notice: ${res.text.match(FULL_ID_RE)}`);
  for (const i of body.items) assert.match(i.citizen_id_masked, /^\d{6}\*{8}[\dX]{4}$/);
  // another village's page does not list it
  const other = expectStatus(await anon().get('/public/notices?village=370725107206'), 200);
  assert.ok(!other.items.some(i => i.case_no === app.case_no));
  assert.ok(!FULL_ID_RE.test(JSON.stringify(other)));
});

test('public notice: cases not in 公示 are not listed; after close_notice the case leaves the list', async () => {
  const { app } = await newCase();
  await driveTo(app.id, 'verified');
  let body = expectStatus(await anon().get(`/public/notices?village=${VILLAGE1}`), 200);
  assert.ok(!body.items.some(i => i.case_no === app.case_no), 'a verified case is not in 公示');
  await driveTo(noticed.app.id, 'awaiting_decision');
  body = expectStatus(await anon().get(`/public/notices?village=${VILLAGE1}`), 200);
  assert.ok(!body.items.some(i => i.case_no === noticed.app.case_no), 'the notice is over');
  expectError(await anon().get('/public/notices?village=abc'), 400, 'invalid_argument', 'village');
});

let online; // {input, case_no}

function onlineInput(overrides = {}) {
  return {
    name: chineseName(),
    citizen_id: citizenId({ birth: randomBirth(1965, 1970) }),
    phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    village_code: VILLAGE1,
    area: 'rural',
    programs: ['dibao', 'temporary'],
    description: '丈夫去世，本人患病，无收入来源。',
    ...overrides,
  };
}

test('online self-service: POST /public/applications without login → 201 {case_no}', async () => {
  const input = onlineInput();
  const res = await anon().post('/public/applications', input);
  const body = expectStatus(res, 201, 'online application');
  assert.equal(typeof body.case_no, 'string');
  assert.ok(body.case_no.length > 0);
  assert.ok(!res.text.includes(input.citizen_id), 'the answer does not echo the full id');
  const rows = dbCount('applications', `case_no = ${sqlString(body.case_no)} AND channel = 'online' AND state = 'received'`);
  assert.equal(rows, 1);
  online = { input, case_no: body.case_no };
});

test('online self-service: invalid input → 400 naming the field, nothing written', async () => {
  const before = dbCount('applications');
  const bad = onlineInput();
  bad.citizen_id = bad.citizen_id.slice(0, 17) + (bad.citizen_id[17] === '1' ? '2' : '1');
  expectError(await anon().post('/public/applications', bad), 400, 'invalid_argument', 'citizen_id');
  expectError(await anon().post('/public/applications', onlineInput({ citizen_id: '12345' })), 400, 'invalid_argument', 'citizen_id');
  expectError(await anon().post('/public/applications', onlineInput({ village_code: '370725107999' })), 400, 'invalid_argument', 'village_code');
  expectError(await anon().post('/public/applications', onlineInput({ name: '' })), 400, 'invalid_argument', 'name');
  expectError(await anon().post('/public/applications', onlineInput({ programs: ['lottery'] })), 400, 'invalid_argument', 'programs[0]');
  expectError(await anon().request('POST', '/public/applications', { raw: '{"name":' }), 400, 'malformed_json');
  assert.equal(dbCount('applications'), before);
  assert.equal(dbCount('applications', `applicant_citizen_id = ${sqlString(bad.citizen_id)}`), 0);
});

// The lookup needs the last four digits of the applicant's phone as well (issue 17 #1: the
// public notice shows the id's first 6 and last 4 characters, so the id alone can be guessed).
const last4 = (phone) => phone.replace(/\D/g, '').slice(-4);
const progressPath = (caseNo, cid, phone) =>
  `/public/applications/${encodeURIComponent(caseNo)}?citizen_id=${cid}&phone_last4=${phone}`;

test('online self-service: progress with case number + the right id and phone digits; a wrong id or phone → 404 like an unknown case', async () => {
  const { input, case_no } = online;
  const res = await anon().get(progressPath(case_no, input.citizen_id, last4(input.phone)));
  const p = expectStatus(res, 200, 'progress');
  assert.equal(p.case_no, case_no);
  assert.equal(p.state, 'received');
  assert.equal(typeof p.state_label, 'string');
  assert.ok(p.state_label.length > 0);
  assert.match(p.received_at, ISO_TS);
  assert.equal(p.due_date, null);
  assert.ok(Array.isArray(p.steps) && p.steps.length >= 1);
  for (const s of p.steps) { assert.match(s.at, ISO_TS); assert.equal(typeof s.label, 'string'); }
  assert.ok(!FULL_ID_RE.test(res.text), 'the progress page shows no full id');
  const unknown = await anon().get(progressPath('370725-2099-999999', input.citizen_id, last4(input.phone)));
  expectError(unknown, 404, 'not_found');
  const wrong = await anon().get(progressPath(case_no, citizenId(), last4(input.phone)));
  expectError(wrong, 404, 'not_found');
  assert.deepEqual(wrong.body, unknown.body, 'a wrong id reveals nothing');
  const otherDigits = String((Number(last4(input.phone)) + 1) % 10000).padStart(4, '0');
  const wrongPhone = await anon().get(progressPath(case_no, input.citizen_id, otherDigits));
  expectError(wrongPhone, 404, 'not_found');
  assert.deepEqual(wrongPhone.body, unknown.body, 'the right id with wrong phone digits reveals nothing');
  // the phone digits are required (four digits): refused before any lookup
  expectError(await anon().get(`/public/applications/${encodeURIComponent(case_no)}?citizen_id=${input.citizen_id}`),
    400, 'invalid_argument', 'phone_last4');
  expectError(await anon().get(progressPath(case_no, input.citizen_id, '12a4')), 400, 'invalid_argument', 'phone_last4');
  expectError(await anon().get(`/public/applications/${encodeURIComponent(case_no)}?phone_last4=${last4(input.phone)}`), 404, 'not_found');
  // a window case can be looked up the same way by its applicant (the household's phone)
  const w = noticed;
  const head = w.household.members.find(m => m.relation === 'head');
  const wp = expectStatus(await anon().get(progressPath(w.app.case_no, head.citizen_id, last4(w.household.phone))), 200);
  assert.equal(wp.state, appRow(w.app.id).state);
});

test('the town clerk sees the online application (channel online) and links it to a registered household', async () => {
  const { input, case_no } = online;
  const clerk = await as('town_clerk');
  const list = await listAll(clerk, `/applications?q=${encodeURIComponent(case_no)}`);
  assert.equal(list.length, 1);
  const app = list[0];
  assert.equal(app.channel, 'online');
  assert.equal(app.state, 'received');
  assert.equal(app.household_id, null, 'arrives without a household');
  assert.equal(app.applicant_name, input.name);
  assert.equal(app.applicant_citizen_id_masked, maskId(input.citizen_id));
  assert.deepEqual([...app.programs].sort(), ['dibao', 'temporary']);
  // Confirmed at the same level as a window application of the village (issue 19 #6): 370725's
  // pack delegates confirmation to the towns.
  assert.equal(app.delegated, true, 'an online application is delegated like a window one');
  // another town does not see it
  assert.equal((await listAll(await as('town2_clerk'), `/applications?q=${encodeURIComponent(case_no)}`)).length, 0);
  const full = await getApp(app.id, clerk);
  assert.ok(full.allowed_actions.includes('link_household'));

  const household = await createHousehold(clerk, VILLAGE1, [personInput({ relation: 'head', citizen_id: input.citizen_id, name: input.name })]);
  const far = await createHousehold(await as('town2_clerk'), VILLAGE3);
  // out of scope: the case for town2, the household for town1
  const missing = await act(await as('town2_clerk'), 987654321, 'link_household', { household_id: household.id }, 1);
  const r2 = await act(await as('town2_clerk'), app.id, 'link_household', { household_id: far.id });
  expectError(r2, 404, 'not_found');
  assert.deepEqual(r2.body, missing.body);
  await actRefused(clerk, app.id, 'link_household', { household_id: far.id }, 404, 'not_found');
  await actRefused(await as('village1'), app.id, 'link_household', { household_id: household.id }, 403, 'permission_denied');
  const before = caseFootprint(app.id);
  assert.equal(before.row.household_id ?? null, null);
  const linked = await actOk(clerk, app.id, 'link_household', { household_id: household.id }, 'received');
  assert.equal(String(linked.household_id), String(household.id));
  // it then goes on like any case; the public progress follows
  const acc = await actOk(clerk, app.id, 'accept', {}, 'accepted');
  const p = expectStatus(await anon().get(progressPath(case_no, input.citizen_id, last4(input.phone))), 200);
  assert.equal(p.state, 'accepted');
  assert.equal(p.due_date, acc.due_date);
  assert.ok(p.steps.length >= 2, 'the acceptance is a step');
});

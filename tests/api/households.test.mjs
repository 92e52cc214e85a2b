import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, expectStatus, householdInput, personInput, citizenId, wrongCheck, birthOf, sexOf, ageOn, chineseName,
  createHousehold, personsWithId, maskId, ISO_TS, VILLAGE1, dbQuery, T, sqlString, dbSnapshot,
} from './lib.mjs';

function checkPerson(p, input, householdId) {
  assert.equal(p.citizen_id, input.citizen_id.toUpperCase());
  assert.equal(p.name, input.name);
  assert.equal(p.relation, input.relation);
  assert.deepEqual(p.disability, input.disability);
  assert.equal(p.serious_illness, input.serious_illness);
  assert.equal(p.self_care, input.self_care);
  assert.equal(p.in_school, input.in_school);
  assert.equal(p.employed, input.employed);
  assert.equal(p.has_supporter, input.has_supporter);
  assert.deepEqual(p.monthly_income_fen, input.monthly_income_fen);
  assert.equal(p.birth_date, birthOf(input.citizen_id));
  assert.equal(p.sex, sexOf(input.citizen_id));
  assert.equal(p.age, ageOn(birthOf(input.citizen_id)));
  assert.equal(String(p.household_id), String(householdId));
  assert.ok(p.id !== undefined && p.id !== null);
  assert.equal(typeof p.version, 'number');
}

function without(obj, ...keys) {
  const o = { ...obj };
  for (const k of keys) delete o[k];
  return o;
}

let shared; // the two-member household created by the first test

test('POST /households with two members → 201 Household, birth_date/sex derived from the id', async () => {
  const c = await as('village1');
  const head = personInput({ relation: 'head', citizen_id: citizenId({ sex: 'male' }) });
  const spouse = personInput({
    relation: 'spouse', citizen_id: citizenId({ sex: 'female', check: 'X' }),
    disability: { kind: 'physical', grade: 2 }, serious_illness: true, self_care: 'partial_loss',
    employed: true, monthly_income_fen: { wage: 150000, business: 0, property: 1200, transfer: 0, pension: 0, other: 1 },
  });
  const input = householdInput(VILLAGE1, [head, spouse], {
    assets: { deposits_fen: 1234567, vehicles: 1, extra_properties: 0, business: true },
    annual_rigid_expenditure_fen: { medical: 50000, education: 7000 },
  });
  const res = await c.post('/households', input);
  const h = expectStatus(res, 201, 'create');
  for (const k of ['village_code', 'area', 'residence_address', 'phone', 'assets', 'annual_rigid_expenditure_fen']) {
    assert.deepEqual(h[k], input[k], k);
  }
  assert.ok(h.id !== undefined && h.id !== null);
  assert.equal(typeof h.version, 'number');
  assert.equal(h.town_code, '370725107');
  assert.equal(h.county_code, '370725');
  assert.match(h.village_name, /乔南/);
  assert.equal(h.town_name, '乔官镇');
  assert.match(h.created_at, ISO_TS);
  assert.match(h.updated_at, ISO_TS);
  assert.equal(h.members.length, 2);
  const byId = Object.fromEntries(h.members.map(m => [m.citizen_id, m]));
  checkPerson(byId[head.citizen_id], head, h.id);
  checkPerson(byId[spouse.citizen_id], spouse, h.id);
  assert.equal(byId[head.citizen_id].sex, 'male');
  assert.equal(byId[spouse.citizen_id].sex, 'female');
  assert.notEqual(byId[head.citizen_id].id, byId[spouse.citizen_id].id);
  // really in the database
  assert.equal(personsWithId(head.citizen_id), 1);
  assert.equal(personsWithId(spouse.citizen_id), 1);
  shared = { h, head, spouse, input };
});

test('GET /households/{id} and GET /persons/{id} return what was created', async () => {
  const c = await as('village1');
  const { h } = shared;
  const res = await c.get(`/households/${h.id}`);
  const got = expectStatus(res, 200, 'get household');
  assert.deepEqual(got, h);
  for (const m of h.members) {
    const p = expectStatus(await c.get(`/persons/${m.id}`), 200, 'get person');
    assert.deepEqual(p, m);
  }
  expectError(await c.get('/households/987654321'), 404, 'not_found');
  expectError(await c.get('/persons/987654321'), 404, 'not_found');
  expectError(await c.get('/households/abc'), 404, 'not_found');
});

test('a lower-case x check character is accepted and stored upper-case', async () => {
  const c = await as('village1');
  const id = citizenId({ check: 'X' });
  const h = await createHousehold(c, VILLAGE1, [personInput({ citizen_id: id.toLowerCase() })]);
  assert.equal(h.members[0].citizen_id, id);
  assert.equal(personsWithId(id), 1);
});

test('list: search by member name (substring, any member) returns the household summary', async () => {
  const c = await as('village1');
  const { h, head, spouse } = shared;
  let res = await c.get(`/households?q=${encodeURIComponent(head.name)}`);
  let page = expectStatus(res, 200, 'search');
  assert.equal(page.total, 1, JSON.stringify(page));
  assert.equal(page.items.length, 1);
  const s = page.items[0];
  assert.equal(String(s.id), String(h.id));
  assert.equal(s.version, h.version);
  assert.equal(s.village_code, VILLAGE1);
  assert.equal(s.village_name, h.village_name);
  assert.equal(s.town_name, '乔官镇');
  assert.equal(s.area, 'rural');
  assert.equal(s.head_name, head.name);
  assert.equal(s.head_citizen_id_masked, maskId(head.citizen_id));
  assert.equal(s.member_count, 2);
  assert.match(s.updated_at, ISO_TS);
  assert.ok(!JSON.stringify(page).includes(head.citizen_id), 'list must not reveal the full citizen id');
  // spouse's name finds the same household
  page = expectStatus(await c.get(`/households?q=${encodeURIComponent(spouse.name)}`), 200);
  assert.deepEqual(page.items.map(i => String(i.id)), [String(h.id)]);
  // substring of a name
  page = expectStatus(await c.get(`/households?q=${encodeURIComponent(head.name.slice(1, 3))}&page_size=200`), 200);
  assert.ok(page.items.some(i => String(i.id) === String(h.id)), 'substring search');
  for (const i of page.items) assert.equal(i.village_code, VILLAGE1);
});

test('list: search by citizen id prefix, full id, and lower-case x', async () => {
  const c = await as('village1');
  const { h, spouse } = shared;
  const id = spouse.citizen_id; // ends with X
  assert.equal(id[17], 'X');
  let page = expectStatus(await c.get(`/households?q=${id.slice(0, 14)}&page_size=200`), 200);
  assert.ok(page.items.some(i => String(i.id) === String(h.id)), 'prefix search');
  for (const q of [id, id.toLowerCase()]) {
    page = expectStatus(await c.get(`/households?q=${q}`), 200);
    assert.equal(page.total, 1, `q=${q}: ${JSON.stringify(page)}`);
    assert.equal(String(page.items[0].id), String(h.id));
  }
  // not a prefix → no match
  page = expectStatus(await c.get(`/households?q=${id.slice(3)}`), 200);
  assert.ok(!page.items.some(i => String(i.id) === String(h.id)), 'infix must not match as id');
  // unknown id → nothing
  page = expectStatus(await c.get(`/households?q=${citizenId()}`), 200);
  assert.equal(page.total, 0);
  assert.deepEqual(page.items, []);
});

test('list: pagination fields, page 2 differs from page 1, newest first', async () => {
  const c = await as('village1');
  let first = expectStatus(await c.get('/households'), 200);
  assert.equal(first.page, 1);
  assert.equal(first.page_size, 20);
  for (let n = first.total; n < 5; n++) await createHousehold(c, VILLAGE1);
  const newest = await createHousehold(c, VILLAGE1);
  const p1 = expectStatus(await c.get('/households?page=1&page_size=2'), 200);
  const p2 = expectStatus(await c.get('/households?page=2&page_size=2'), 200);
  assert.ok(p1.total >= 6, `total ${p1.total}`);
  assert.equal(p2.total, p1.total);
  assert.equal(p1.page, 1); assert.equal(p2.page, 2);
  assert.equal(p1.page_size, 2); assert.equal(p2.page_size, 2);
  assert.equal(p1.items.length, 2); assert.equal(p2.items.length, 2);
  assert.equal(String(p1.items[0].id), String(newest.id), 'newest household first');
  const ids = [...p1.items, ...p2.items].map(i => i.id);
  assert.equal(new Set(ids.map(String)).size, 4, 'pages overlap');
  const num = ids.map(Number);
  if (num.every(Number.isFinite)) {
    for (let i = 1; i < num.length; i++) assert.ok(num[i - 1] > num[i], `not sorted by id desc: ${ids}`);
  }
  const lastPage = Math.ceil(p1.total / 2);
  const pl = expectStatus(await c.get(`/households?page=${lastPage}&page_size=2`), 200);
  assert.equal(pl.items.length, p1.total - 2 * (lastPage - 1));
  const beyond = expectStatus(await c.get(`/households?page=${lastPage + 1}&page_size=2`), 200);
  assert.deepEqual(beyond.items, []);
  assert.equal(beyond.total, p1.total);
  // all pages together = total, no duplicates
  const all = [];
  for (let p = 1; p <= lastPage; p++) all.push(...expectStatus(await c.get(`/households?page=${p}&page_size=2`), 200).items);
  assert.equal(all.length, p1.total);
  assert.equal(new Set(all.map(i => String(i.id))).size, p1.total);
});

test('list: out-of-range page/page_size → 400 invalid_argument', async () => {
  const c = await as('village1');
  expectError(await c.get('/households?page_size=0'), 400, 'invalid_argument', 'page_size');
  expectError(await c.get('/households?page_size=201'), 400, 'invalid_argument', 'page_size');
  expectError(await c.get('/households?page=0'), 400, 'invalid_argument', 'page');
  expectError(await c.get('/households?page=abc'), 400, 'invalid_argument', 'page');
  expectStatus(await c.get('/households?page_size=200'), 200);
});

test('PUT /households/{id} with version → version increments; stale → 409 and row unchanged', async () => {
  const c = await as('village1');
  const h = await createHousehold(c, VILLAGE1);
  const { members, ...input } = householdInput(VILLAGE1);
  input.residence_address = '乔官镇乔南村 更新后 8 号';
  input.area = 'urban';
  input.assets = { deposits_fen: 99, vehicles: 0, extra_properties: 2, business: false };
  const res = await c.put(`/households/${h.id}`, { ...input, version: h.version });
  const u = expectStatus(res, 200, 'update');
  assert.equal(u.version, h.version + 1);
  assert.equal(u.residence_address, input.residence_address);
  assert.equal(u.area, 'urban');
  assert.deepEqual(u.assets, input.assets);
  assert.equal(u.phone, input.phone);
  assert.deepEqual(u.members, h.members, 'members untouched by PUT');
  assert.equal(u.created_at, h.created_at);
  const got = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.deepEqual(got, u);

  // stale version
  const stale = await c.put(`/households/${h.id}`, { ...input, residence_address: '不该写入', version: h.version });
  expectError(stale, 409, 'version_conflict');
  const after = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.deepEqual(after, u);
  const rows = dbQuery(`SELECT version, residence_address FROM ${T.households} WHERE id = ${Number(h.id)}`);
  assert.equal(rows.length, 1);
  assert.equal(Number(rows[0].version), u.version);
  assert.equal(rows[0].residence_address, input.residence_address);

  // missing version
  expectError(await c.put(`/households/${h.id}`, input), 400, 'invalid_argument', 'version');
  // nonexistent household
  expectError(await c.put('/households/987654321', { ...input, version: 1 }), 404, 'not_found');
});

test('members: add, edit (incl. new citizen id) and delete', async () => {
  const c = await as('village1');
  const h = await createHousehold(c, VILLAGE1);
  const headId = h.members[0].id;

  // add
  const childIn = personInput({ relation: 'child', in_school: true, citizen_id: citizenId({ birth: '20100615' }) });
  const child = expectStatus(await c.post(`/households/${h.id}/members`, childIn), 201, 'add member');
  checkPerson(child, childIn, h.id);
  assert.equal(personsWithId(childIn.citizen_id), 1);
  let hh = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.equal(hh.members.length, 2);
  const sum = expectStatus(await c.get(`/households?q=${encodeURIComponent(childIn.name)}`), 200);
  assert.equal(sum.items[0].member_count, 2);

  // edit, with a new citizen id → derived fields follow
  const newId = citizenId({ birth: '19991231', sex: 'female' });
  const editIn = { ...childIn, citizen_id: newId, name: chineseNameLike(childIn.name), employed: true, in_school: false,
    monthly_income_fen: { ...childIn.monthly_income_fen, wage: 320000 } };
  const edited = expectStatus(await c.put(`/persons/${child.id}`, { ...editIn, version: child.version }), 200, 'edit member');
  checkPerson(edited, editIn, h.id);
  assert.equal(edited.id, child.id);
  assert.equal(edited.version, child.version + 1);
  assert.equal(edited.birth_date, '1999-12-31');
  assert.equal(edited.sex, 'female');
  assert.equal(personsWithId(childIn.citizen_id), 0);
  assert.equal(personsWithId(newId), 1);
  assert.deepEqual(expectStatus(await c.get(`/persons/${child.id}`), 200), edited);

  // stale edit
  expectError(await c.put(`/persons/${child.id}`, { ...editIn, name: '不该写入', version: child.version }), 409, 'version_conflict');
  assert.equal(expectStatus(await c.get(`/persons/${child.id}`), 200).name, editIn.name);

  // stale delete, then delete
  expectError(await c.del(`/persons/${child.id}?version=${child.version}`), 409, 'version_conflict');
  expectStatus(await c.get(`/persons/${child.id}`), 200);
  const del = await c.del(`/persons/${child.id}?version=${edited.version}`);
  assert.equal(del.status, 204, del.text);
  expectError(await c.get(`/persons/${child.id}`), 404, 'not_found');
  hh = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.deepEqual(hh.members.map(m => m.id), [headId]);
  // deleting again → 404
  expectError(await c.del(`/persons/${child.id}?version=${edited.version}`), 404, 'not_found');
});

test('the head cannot be removed: 409 failed_precondition, head kept', async () => {
  const c = await as('village1');
  const h = await createHousehold(c, VILLAGE1, [personInput({ relation: 'head' }), personInput({ relation: 'spouse' })]);
  const head = h.members.find(m => m.relation === 'head');
  const before = dbSnapshot();
  const delHead = await c.del(`/persons/${head.id}?version=${head.version}`);
  expectError(delHead, 409, 'failed_precondition');
  assert.deepEqual(dbSnapshot(), before);
  assert.deepEqual(expectStatus(await c.get(`/persons/${head.id}`), 200), head);
});

test('member edits keep exactly one head; moving a citizen id onto a registered one → 409', async () => {
  const c = await as('village1');
  const h = await createHousehold(c, VILLAGE1, [personInput({ relation: 'head' }), personInput({ relation: 'spouse' })]);
  const head = h.members.find(m => m.relation === 'head');
  const sp = h.members.find(m => m.relation === 'spouse');
  const edit = (p, over) => ({ ...personInput({ relation: p.relation, citizen_id: p.citizen_id, name: p.name }), ...over, version: p.version });
  const before = dbSnapshot();
  expectError(await c.put(`/persons/${sp.id}`, edit(sp, { relation: 'head' })), 400, 'invalid_argument', 'relation');
  const demote = await c.put(`/persons/${head.id}`, edit(head, { relation: 'spouse' }));
  assert.ok(demote.status === 400 || demote.status === 409, `demoting the only head: ${demote.status} ${demote.text}`);
  expectError(demote, demote.status);
  const other = await createHousehold(c, VILLAGE1);
  const mid = dbSnapshot();
  expectError(await c.put(`/persons/${sp.id}`, edit(sp, { citizen_id: other.members[0].citizen_id })), 409, 'conflict', 'citizen_id');
  expectError(await c.put(`/persons/${sp.id}`, edit(sp, { citizen_id: wrongCheck(sp.citizen_id) })), 400, 'invalid_argument', 'citizen_id');
  expectError(await c.put(`/persons/${sp.id}`, { ...edit(sp, {}), version: undefined }), 400, 'invalid_argument', 'version');
  assert.deepEqual(dbSnapshot(), mid);
  assert.equal(before.persons + 1, mid.persons);
  const got = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.deepEqual(got.members, h.members);
});

test('members: a second head, a duplicate citizen id, or an unknown household are refused', async () => {
  const c = await as('village1');
  const h = await createHousehold(c, VILLAGE1);
  const secondHead = personInput({ relation: 'head' });
  expectError(await c.post(`/households/${h.id}/members`, secondHead), 400, 'invalid_argument');
  assert.equal(personsWithId(secondHead.citizen_id), 0);
  const dup = personInput({ relation: 'child', citizen_id: h.members[0].citizen_id });
  expectError(await c.post(`/households/${h.id}/members`, dup), 409, 'conflict');
  const orphan = personInput({ relation: 'child' });
  expectError(await c.post('/households/987654321/members', orphan), 404, 'not_found');
  assert.equal(personsWithId(orphan.citizen_id), 0);
  const hh = expectStatus(await c.get(`/households/${h.id}`), 200);
  assert.equal(hh.members.length, 1);
});

function chineseNameLike(name) { return name.slice(0, 1) + '新' + name.slice(2); }

test('rare characters outside the BMP (生僻字) round-trip and are searchable', async () => {
  const c = await as('village1');
  const name = '𠀀' + chineseName().slice(1, 3) + '𪚥';
  const h = await createHousehold(c, VILLAGE1, [personInput({ name })], { residence_address: '𡈼村 3 号' });
  assert.equal(h.members[0].name, name);
  assert.equal(h.residence_address, '𡈼村 3 号');
  assert.equal(expectStatus(await c.get(`/households/${h.id}`), 200).members[0].name, name);
  const page = expectStatus(await c.get(`/households?q=${encodeURIComponent(name.slice(0, 4))}`), 200);
  assert.ok(page.items.some(i => String(i.id) === String(h.id)), 'search by a name starting with a 4-byte character');
  assert.equal(page.items.find(i => String(i.id) === String(h.id)).head_name, name);
});

test('list: LIKE wildcards in q are matched literally', async () => {
  const c = await as('village1');
  const all = expectStatus(await c.get('/households'), 200);
  assert.ok(all.total > 0);
  for (const q of ['%', '_', '%%', '3707_5', '3707%', '\\', '*']) {
    const page = expectStatus(await c.get(`/households?q=${encodeURIComponent(q)}`), 200);
    assert.equal(page.total, 0, `q=${q} matched ${page.total} households`);
  }
});

test('town_clerk moves a household between its villages; scope follows the record', async () => {
  const v1 = await as('village1');
  const h = await createHousehold(v1, VILLAGE1);
  const tc = await as('town_clerk');
  const { members, ...input } = householdInput('370725107206');
  const moved = expectStatus(await tc.put(`/households/${h.id}`, { ...input, version: h.version }), 200, 'move');
  assert.equal(moved.village_code, '370725107206');
  assert.equal(moved.town_code, '370725107');
  assert.match(moved.village_name, /龙泉院/);
  expectError(await v1.get(`/households/${h.id}`), 404, 'not_found');
  expectError(await v1.get(`/persons/${h.members[0].id}`), 404, 'not_found');
  assert.equal(expectStatus(await v1.get(`/households?q=${h.members[0].citizen_id}`), 200).total, 0);
  const v2 = await as('village2');
  expectStatus(await v2.get(`/households/${h.id}`), 200);
  expectStatus(await v2.get(`/persons/${h.members[0].id}`), 200);
  assert.equal(expectStatus(await v2.get(`/households?q=${h.members[0].citizen_id}`), 200).total, 1);
  assert.equal(expectStatus(await v2.get(`/households?q=${encodeURIComponent(h.members[0].name)}`), 200).total, 1);
  assert.equal(expectStatus(await v1.get(`/households?q=${encodeURIComponent(h.members[0].name)}`), 200).total, 0);
  // a member added after the move belongs to the new village too
  const late = expectStatus(await tc.post(`/households/${h.id}/members`, personInput({ relation: 'child' })), 201);
  expectStatus(await v2.get(`/persons/${late.id}`), 200);
  expectError(await v1.get(`/persons/${late.id}`), 404, 'not_found');
  // and into an unknown village → 400, unchanged
  expectError(await tc.put(`/households/${h.id}`, { ...input, village_code: '370725107999', version: moved.version }), 400, 'invalid_argument', 'village_code');
  assert.equal(expectStatus(await v2.get(`/households/${h.id}`), 200).version, moved.version);
});

test('household rows are visible to the county and town of the village', async () => {
  const { h } = shared;
  for (const u of ['admin', 'reviewer', 'supervisor', 'auditor', 'town_clerk', 'town_reviewer']) {
    const c = await as(u);
    const got = expectStatus(await c.get(`/households/${h.id}`), 200, u);
    assert.equal(String(got.id), String(h.id));
  }
  // sql injection-ish search input is harmless
  const c = await as('village1');
  const page = expectStatus(await c.get(`/households?q=${encodeURIComponent("' OR 1=1 --")}`), 200);
  assert.equal(page.total, 0);
  const rows = dbQuery(`SELECT count(*) AS n FROM ${T.persons} WHERE citizen_id = ${sqlString(shared.head.citizen_id)}`);
  assert.equal(Number(rows[0].n), 1);
});

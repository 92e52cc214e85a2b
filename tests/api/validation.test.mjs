// Every rejected request must leave the database exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  as, expectError, householdInput, personInput, citizenId, wrongCheck, withCheck, dbSnapshot,
  personsWithId, createHousehold, VILLAGE1, UNKNOWN_VILLAGE, TOWN1,
} from './lib.mjs';

/**
 * Sends body (object → JSON, string → raw) and asserts the error and that nothing was written:
 * same row counts, and no person row for any member's citizen id except `existing` ones.
 */
async function rejected(body, status, code, field, existing = []) {
  const c = await as('village1');
  const ids = [];
  if (body && typeof body === 'object' && Array.isArray(body.members)) {
    for (const m of body.members) if (m && typeof m.citizen_id === 'string' && m.citizen_id.length === 18) ids.push(m.citizen_id);
  }
  const before = dbSnapshot();
  const res = typeof body === 'string'
    ? await c.request('POST', '/households', { raw: body })
    : await c.post('/households', body);
  const e = expectError(res, status, code, field);
  assert.deepEqual(dbSnapshot(), before, 'database changed by a rejected request');
  for (const id of ids) {
    if (existing.map(x => x.toUpperCase()).includes(id.toUpperCase())) continue;
    if (/^\d{17}[\dX]$/i.test(id)) assert.equal(personsWithId(id), 0, `person ${id} written`);
  }
  return e;
}

function mutate(fn) {
  const h = householdInput(VILLAGE1);
  fn(h);
  return h;
}

test('malformed JSON → 400 malformed_json', async () => {
  await rejected('{"village_code": "370725107202", "members": [', 400, 'malformed_json');
  await rejected('village_code=370725107202', 400, 'malformed_json');
  await rejected('', 400, 'malformed_json');
  await rejected('{"a":1} trailing', 400, 'malformed_json');
});

test('a JSON body that is not an object (array, string, null) → 400 malformed_json', async () => {
  await rejected(JSON.stringify([householdInput(VILLAGE1)]), 400, 'malformed_json');
  await rejected('"text"', 400, 'malformed_json');
  await rejected('null', 400, 'malformed_json');
  await rejected('42', 400, 'malformed_json');
});

test('wrong types → 400 invalid_argument naming the field', async () => {
  await rejected(mutate(h => { h.area = 5; }), 400, 'invalid_argument', 'area');
  await rejected(mutate(h => { h.village_code = 370725107202; }), 400, 'invalid_argument', 'village_code');
  await rejected(mutate(h => { h.members = {}; }), 400, 'invalid_argument', 'members');
  await rejected(mutate(h => { h.assets.deposits_fen = '100'; }), 400, 'invalid_argument', 'assets.deposits_fen');
  await rejected(mutate(h => { h.assets.business = 'no'; }), 400, 'invalid_argument', 'assets.business');
  await rejected(mutate(h => { h.members[0].name = 123; }), 400, 'invalid_argument', 'members[0].name');
  await rejected(mutate(h => { h.members[0].serious_illness = 'yes'; }), 400, 'invalid_argument', 'members[0].serious_illness');
  await rejected(mutate(h => { h.members[0].monthly_income_fen.wage = 1.5; }), 400, 'invalid_argument', 'members[0].monthly_income_fen.wage');
});

test('missing fields → 400 invalid_argument naming the field', async () => {
  await rejected(mutate(h => { delete h.members; }), 400, 'invalid_argument', 'members');
  await rejected(mutate(h => { h.members = []; }), 400, 'invalid_argument', 'members');
  await rejected(mutate(h => { delete h.village_code; }), 400, 'invalid_argument', 'village_code');
  await rejected(mutate(h => { delete h.area; }), 400, 'invalid_argument', 'area');
  await rejected(mutate(h => { delete h.members[0].name; }), 400, 'invalid_argument', 'members[0].name');
  await rejected(mutate(h => { delete h.members[0].citizen_id; }), 400, 'invalid_argument', 'members[0].citizen_id');
});

test('invalid citizen ids → 400 field members[0].citizen_id', async () => {
  const good = citizenId();
  const bad = [
    wrongCheck(good),                       // wrong check character
    withCheck('37072519801301123'),         // month 13
    withCheck('37072519800230123'),         // 30 February
    withCheck('37072519800001123'),         // day 00
    withCheck(`370725${new Date().getFullYear() + 1}0101123`), // born in the future
    good.slice(0, 17),                      // 17 characters
    good + '1',                             // 19 characters
    '37072519800101A23' + 'X',              // letter inside
    '',
  ];
  for (const id of bad) {
    const e = await rejected(mutate(h => { h.members[0].citizen_id = id; }), 400, 'invalid_argument', 'members[0].citizen_id');
    assert.ok(e.message.length > 0, id);
  }
});

test('unknown or non-village division code → 400 field village_code', async () => {
  await rejected(householdInput(UNKNOWN_VILLAGE), 400, 'invalid_argument', 'village_code');
  await rejected(householdInput('37072510720'), 400, 'invalid_argument', 'village_code');
  await rejected(householdInput('abcdefghijkl'), 400, 'invalid_argument', 'village_code');
  await rejected(householdInput(TOWN1), 400, 'invalid_argument', 'village_code');
});

test('bad enums → 400 naming the field', async () => {
  await rejected(mutate(h => { h.members[0].relation = 'boss'; }), 400, 'invalid_argument', 'members[0].relation');
  await rejected(mutate(h => { h.area = 'moon'; }), 400, 'invalid_argument', 'area');
  await rejected(mutate(h => { h.members[0].self_care = 'some'; }), 400, 'invalid_argument', 'members[0].self_care');
  await rejected(mutate(h => { h.members[0].disability = { kind: 'bad', grade: 1 }; }), 400, 'invalid_argument', 'members[0].disability.kind');
  await rejected(mutate(h => { h.members[0].disability = { kind: 'visual', grade: 5 }; }), 400, 'invalid_argument', 'members[0].disability.grade');
  await rejected(mutate(h => { h.members[0].disability = { kind: 'visual', grade: 0 }; }), 400, 'invalid_argument', 'members[0].disability.grade');
});

test('negative money → 400 naming the field', async () => {
  await rejected(mutate(h => { h.members[0].monthly_income_fen.wage = -1; }), 400, 'invalid_argument', 'members[0].monthly_income_fen.wage');
  await rejected(mutate(h => { h.members[0].monthly_income_fen.pension = -100; }), 400, 'invalid_argument', 'members[0].monthly_income_fen.pension');
  await rejected(mutate(h => { h.assets.deposits_fen = -5; }), 400, 'invalid_argument', 'assets.deposits_fen');
  await rejected(mutate(h => { h.annual_rigid_expenditure_fen.medical = -1; }), 400, 'invalid_argument', 'annual_rigid_expenditure_fen.medical');
});

test('exactly one head is required', async () => {
  await rejected(mutate(h => { h.members[0].relation = 'spouse'; }), 400, 'invalid_argument');
  await rejected(householdInput(VILLAGE1, [personInput({ relation: 'head' }), personInput({ relation: 'head' })]), 400, 'invalid_argument');
});

test('multi-member household with an invalid member 2 → 400 members[1].…, member 1 not written', async () => {
  const m1 = personInput({ relation: 'head' });
  const m2 = personInput({ relation: 'spouse' });
  m2.citizen_id = wrongCheck(m2.citizen_id);
  await rejected(householdInput(VILLAGE1, [m1, m2]), 400, 'invalid_argument', 'members[1].citizen_id');
  assert.equal(personsWithId(m1.citizen_id), 0);
  const m3 = personInput({ relation: 'child', monthly_income_fen: { wage: -3, business: 0, property: 0, transfer: 0, pension: 0, other: 0 } });
  await rejected(householdInput(VILLAGE1, [personInput({ relation: 'head' }), personInput({ relation: 'spouse' }), m3]),
    400, 'invalid_argument', 'members[2].monthly_income_fen.wage');
});

test('oversized body (> 1 MiB) → 413 payload_too_large', async () => {
  const h = householdInput(VILLAGE1);
  h.residence_address = '乔'.repeat(400 * 1024); // ~1.2 MB of UTF-8
  const raw = JSON.stringify(h);
  assert.ok(Buffer.byteLength(raw) > 1024 * 1024);
  await rejected(raw, 413, 'payload_too_large');
  assert.equal(personsWithId(h.members[0].citizen_id), 0);
});

test('citizen id already registered → 409 conflict, nothing of the new household written', async () => {
  const c = await as('village1');
  const existing = await createHousehold(c, VILLAGE1, [personInput({ citizen_id: citizenId({ check: 'X' }) })]);
  const dupId = existing.members[0].citizen_id;
  const fresh = personInput({ relation: 'head' });
  await rejected(householdInput(VILLAGE1, [fresh, personInput({ relation: 'spouse', citizen_id: dupId })]), 409, 'conflict', undefined, [dupId]);
  assert.equal(personsWithId(fresh.citizen_id), 0);
  assert.equal(personsWithId(dupId), 1);
  // also as the only member, and in lower case where it ends with X
  await rejected(householdInput(VILLAGE1, [personInput({ citizen_id: dupId })]), 409, 'conflict', undefined, [dupId]);
  await rejected(householdInput(VILLAGE1, [personInput({ citizen_id: dupId.toLowerCase() })]), 409, 'conflict', undefined, [dupId]);
});

test('the same citizen id twice in one body is refused, nothing written', async () => {
  const c = await as('village1');
  const id = citizenId();
  const before = dbSnapshot();
  const res = await c.post('/households', householdInput(VILLAGE1, [
    personInput({ relation: 'head', citizen_id: id }), personInput({ relation: 'child', citizen_id: id })]));
  assert.ok(res.status === 400 || res.status === 409, `${res.status} ${res.text}`);
  expectError(res, res.status);
  assert.deepEqual(dbSnapshot(), before);
  assert.equal(personsWithId(id), 0);
});

test('a NUL character in a text field is rejected (400 naming the field) or stored verbatim', async () => {
  const c = await as('village1');
  const cases = [
    [householdInput(VILLAGE1, [personInput({ name: '张\u0000三' })]), 'members[0].name', h => h.members[0].name, '张\u0000三'],
    [householdInput(VILLAGE1, undefined, { residence_address: '乔南村\u00007 号' }), 'residence_address', h => h.residence_address, '乔南村\u00007 号'],
  ];
  for (const [input, field, pick, sent] of cases) {
    const before = dbSnapshot();
    const res = await c.post('/households', input);
    if (res.status === 201) {
      assert.equal(pick(res.body), sent, `${field}: accepted but not stored as sent`);
      const got = await c.get(`/households/${res.body.id}`);
      assert.equal(pick(got.body), sent, `${field}: accepted but read back differently`);
    } else {
      expectError(res, 400, 'invalid_argument', field);
      assert.deepEqual(dbSnapshot(), before);
    }
  }
});

// Input validation findings of issue 17: out-of-range disability grades (#8: 4294967297 was
// stored as grade 1; the disability feed took any grade; the monitor narrowed large ones),
// invisible bidirectional / format characters in names and free text, invalid UTF-8 in a feed
// (500 before), CSV quoted fields holding a line break, and strict dates in feeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import {
  as, Client, expectError, expectStatus, householdInput, personInput, createHousehold, citizenId, randomBirth,
  dbSnapshot, dbQuery, dbExec, dbCount, sqlString, newCase, driveTo, listAll, VILLAGE1,
} from './lib.mjs';

function pad2(n) { return String(n).padStart(2, '0'); }
/** A month no other file has used for feeds, alerts or runs (feeds of several tests must not meet). */
function unusedMonth() {
  const used = new Set(dbQuery(`SELECT month FROM feed_files UNION SELECT month FROM alerts
    UNION SELECT month FROM monitor_runs`).map((r) => r.month));
  const free = [];
  for (let y = 2037; y <= 2046; y++) for (let m = 1; m <= 12; m++) if (!used.has(`${y}-${pad2(m)}`)) free.push(`${y}-${pad2(m)}`);
  return free[randomInt(0, free.length)];
}
const MONTH = unusedMonth();

async function upload(source, text, extra = {}) {
  return (await as('admin')).post('/feeds', { source, month: MONTH, filename: `${source}.csv`, csv_text: text, ...extra });
}
const adult = (o = {}) => personInput({ citizen_id: citizenId({ birth: randomBirth(1985, 1995) }), ...o });

// ---------------------------------------------------------------- #8 disability grade

test('#8 a disability grade outside 1–4 (4294967297, 2^64-1, 0, 5, 1.5, "1") is refused on the API naming the field; nothing written', async () => {
  const c = await as('village1');
  for (const grade of [4294967297, 18446744073709551615n, 0, 5, -3, 1.5, '1']) {
    const input = householdInput(VILLAGE1, [personInput({ disability: { kind: 'physical', grade: 0 } })]);
    const raw = JSON.stringify(input).replace('"grade":0', `"grade":${typeof grade === 'string' ? JSON.stringify(grade) : String(grade)}`);
    const before = dbSnapshot();
    const res = await c.request('POST', '/households', { raw });
    expectError(res, 400, 'invalid_argument', 'members[0].disability.grade');
    assert.deepEqual(dbSnapshot(), before, `grade ${grade}: nothing written`);
  }
  // on an edited member too; grades 1 and 4 go in
  const h = await createHousehold(c, VILLAGE1, [personInput({ disability: { kind: 'physical', grade: 4 } })]);
  const head = h.members[0];
  assert.equal(head.disability.grade, 4);
  const edit = (grade) => JSON.stringify({ ...personInput({ relation: 'head', citizen_id: head.citizen_id, name: head.name,
    disability: { kind: 'visual', grade: 0 } }), version: head.version }).replace('"grade":0', `"grade":${grade}`);
  expectError(await c.request('PUT', `/persons/${head.id}`, { raw: edit('4294967297') }), 400, 'invalid_argument', 'disability.grade');
  const ok = expectStatus(await c.request('PUT', `/persons/${head.id}`, { raw: edit('1') }), 200);
  assert.equal(ok.disability.grade, 1);
  assert.equal(Number(dbQuery(`SELECT disability_grade FROM persons WHERE id = ${Number(head.id)}`)[0].disability_grade), 1);
});

test('#8 the disability feed refuses a grade outside 1–4 with its line number; good rows go in', async () => {
  const rows = [['citizen_id', 'name', 'kind', 'grade', 'issued_on'],
    [citizenId(), '张三', '肢体', '2', `${MONTH}-03`],
    [citizenId(), '李四', '肢体', '4294967297', `${MONTH}-03`],
    [citizenId(), '王五', '视力', '0', `${MONTH}-03`],
    [citizenId(), '赵六', '视力', '5', `${MONTH}-03`]];
  const rep = expectStatus(await upload('disability', rows.map((r) => r.join(',')).join('\n') + '\n'), 201);
  assert.equal(rep.imported, 1);
  assert.equal(rep.invalid, 3);
  assert.deepEqual(rep.problems.map((p) => [p.line, p.field]), [[3, 'grade'], [4, 'grade'], [5, 'grade']]);
  for (const p of rep.problems) assert.match(p.message, /1至4/);
  const stored = dbQuery(`SELECT fields FROM feed_rows WHERE file_id = ${Number(rep.file_id)}`)
    .map((r) => (typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields));
  assert.deepEqual(stored.map((f) => f.grade), [2]);
});

test('#8 the monitor does not narrow a stored out-of-range grade (4294967297 is not grade 1)', async () => {
  // Two marginal households (an earner keeps the income at 1.25 × the standard); each spouse is
  // in the disability feed with grade 1 (severe: single_person_candidate fires). One row is then
  // changed in storage to 4294967297, as the import took it before it checked grades.
  const reviewer = await as('reviewer');
  const pol = expectStatus(await reviewer.get(`/policy?date=${MONTH}-28`), 200).parameters;
  const param = (k) => Number(pol.find((x) => x.key === k).value);
  const std = param('dibao.rural_monthly_fen');
  const workCost = param('income.work_cost_deduction_monthly_fen');
  const marginal = async () => {
    const { household, app } = await newCase({ programs: ['marginal'], members: [
      adult({ relation: 'head', employed: true,
        monthly_income_fen: { wage: workCost + Math.round(2.5 * std), business: 0, property: 0, transfer: 0, pension: 0, other: 0 } }),
      adult({ relation: 'spouse' })] });
    await driveTo(app.id, 'enrolled');
    return household;
  };
  const control = await marginal();
  const wrapped = await marginal();
  const spouse = (h) => h.members.find((m) => m.relation === 'spouse');
  const rep = expectStatus(await upload('disability', [['citizen_id', 'name', 'kind', 'grade', 'issued_on'],
    [spouse(control).citizen_id, spouse(control).name, '肢体', '1', `${MONTH}-06`],
    [spouse(wrapped).citizen_id, spouse(wrapped).name, '肢体', '1', `${MONTH}-06`]].map((r) => r.join(',')).join('\n') + '\n'), 201);
  assert.equal(rep.imported, 2);
  const row = dbQuery(`SELECT id, fields FROM feed_rows WHERE file_id = ${Number(rep.file_id)} AND citizen_id = ${sqlString(spouse(wrapped).citizen_id)}`)[0];
  const fields = typeof row.fields === 'string' ? JSON.parse(row.fields) : row.fields;
  const tampered = JSON.stringify({ ...fields, grade: 4294967297 });
  dbExec(`UPDATE feed_rows SET fields = ${sqlString(tampered)} WHERE id = ${Number(row.id)}`);
  expectStatus(await reviewer.post('/monitor/runs', { month: MONTH }), 201, 'monitor run');
  const alerts = (await listAll(reviewer, '/alerts?indicator=single_person_candidate')).filter((a) => a.month === MONTH);
  assert.equal(alerts.filter((a) => a.household_id === control.id).length, 1, 'grade 1 fires (the setup works)');
  assert.deepEqual(alerts.filter((a) => a.household_id === wrapped.id), [], 'grade 4294967297 is not read as grade 1');
});

// ---------------------------------------------------------------- invisible characters

const FORMAT_CHARS = ['\u202E', '\u202A', '\u2066', '\u2069', '\u200F', '\u200B', '\uFEFF', '\u0085', '\u2028'];

test('names with bidirectional controls or other format characters are refused (household member, edit, online application)', async () => {
  const c = await as('village1');
  for (const ch of FORMAT_CHARS) {
    const before = dbSnapshot();
    const res = await c.post('/households', householdInput(VILLAGE1, [personInput({ name: `张${ch}三` })]));
    expectError(res, 400, 'invalid_argument', 'members[0].name');
    assert.deepEqual(dbSnapshot(), before, `U+${ch.codePointAt(0).toString(16)}: nothing written`);
  }
  // free text of the household too (the address goes on notices and exports)
  expectError(await c.post('/households', householdInput(VILLAGE1, undefined, { residence_address: '乔南村\u202E号7' })),
    400, 'invalid_argument', 'residence_address');
  const h = await createHousehold(c, VILLAGE1);
  const head = h.members[0];
  expectError(await c.put(`/persons/${head.id}`, { ...personInput({ relation: 'head', citizen_id: head.citizen_id, name: '李\u2067四' }), version: head.version }),
    400, 'invalid_argument', 'name');
  const before = dbCount('applications');
  expectError(await new Client('public').post('/public/applications', {
    name: '王\u202E五', citizen_id: citizenId({ birth: randomBirth(1960, 1970) }), phone: '13912345678',
    village_code: VILLAGE1, area: 'rural', programs: ['dibao'], description: '' }), 400, 'invalid_argument', 'name');
  assert.equal(dbCount('applications'), before);
  // ordinary Chinese names, with the middle dot of minority names, still go in
  expectStatus(await c.post('/households', householdInput(VILLAGE1, [personInput({ name: '阿依古丽·买买提' })])), 201);
});

test('a feed text field with a bidirectional control is a bad row (line and field); the rest goes in', async () => {
  const rep = expectStatus(await upload('death', `citizen_id,name,date_of_death\n${citizenId()},张三,${MONTH}-02\n${citizenId()},李\u202E四,${MONTH}-02\n`), 201);
  assert.equal(rep.imported, 1);
  assert.deepEqual(rep.problems.map((p) => [p.line, p.field]), [[3, 'name']]);
});

// ---------------------------------------------------------------- feeds: UTF-8, CSV, dates

test('invalid UTF-8 in a feed is a 400 naming the line, not a 500; nothing imported', async () => {
  const files = dbCount('feed_files');
  for (const bad of [Buffer.from([0xED, 0xA0, 0x80]), Buffer.from([0xC0, 0xAF]), Buffer.from([0xF4, 0x90, 0x80, 0x80]), Buffer.from([0xE5, 0xBC])]) {
    const text = Buffer.concat([
      Buffer.from(`身份证号,姓名,死亡日期\n${citizenId()},张三,${MONTH}-02\n${citizenId()},李`, 'utf8'), bad,
      Buffer.from(`四,${MONTH}-02\n`, 'utf8')]);
    const res = await (await as('admin')).post('/feeds', { source: 'death', month: MONTH, filename: 'bad.csv',
      content_base64: text.toString('base64') });
    const e = expectError(res, 400, 'invalid_argument', 'file');
    assert.match(e.message, /第 3 行/, `${bad.toString('hex')}: ${e.message}`);
  }
  assert.equal(dbCount('feed_files'), files);
});

test('a quoted CSV field holding a line break stays one field; line numbers stay those of the file', async () => {
  const id1 = citizenId(), id2 = citizenId(), id3 = citizenId();
  const text = `citizen_id,name,date_of_death\n${id1},"张\n三",${MONTH}-02\n${id2},李四,${MONTH}-31x\r\n${id3},"王""五",${MONTH}-03\n`;
  const rep = expectStatus(await upload('death', text), 201);
  assert.equal(rep.rows, 3, JSON.stringify(rep));
  assert.equal(rep.imported, 2, JSON.stringify(rep.problems));
  assert.deepEqual(rep.problems.map((p) => [p.line, p.field]), [[4, 'date_of_death']], 'the bad row is on line 4 of the file');
  const rows = dbQuery(`SELECT line, citizen_id, fields FROM feed_rows WHERE file_id = ${Number(rep.file_id)} ORDER BY line`)
    .map((r) => ({ line: Number(r.line), id: r.citizen_id, f: typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields }));
  assert.deepEqual(rows.map((r) => [r.line, r.id, r.f.name]), [[2, id1, '张 三'], [5, id3, '王"五']]);
  // a quote left open is refused (it would swallow the rest of the file)
  const open = await upload('death', `citizen_id,name,date_of_death\n${citizenId()},"张三,${MONTH}-02\n${citizenId()},李四,${MONTH}-02\n`);
  const e = expectError(open, 400, 'invalid_argument', 'file');
  assert.match(e.message, /第 2 行/);
});

test('feed dates and months are strict: trailing text, other separators or a mixed one are bad rows', async () => {
  const bad = [`${MONTH}-05junk`, `${MONTH}-05 12:00`, `${MONTH.replace('-', '/')}-05`, `${MONTH}-5.`, ` +${MONTH}-05`, `${MONTH}-005`, `0${MONTH}-05`];
  const good = [`${MONTH}-05`, `${MONTH.replace('-', '/')}/05`, `${MONTH.slice(0, 5)}${Number(MONTH.slice(5))}-5`];
  const lines = ['citizen_id,name,date_of_death', ...bad.map((d) => `${citizenId()},张三,${d}`), ...good.map((d) => `${citizenId()},李四,${d}`)];
  const rep = expectStatus(await upload('death', lines.join('\n') + '\n'), 201);
  assert.deepEqual(rep.problems.map((p) => [p.line, p.field]), bad.map((_, i) => [i + 2, 'date_of_death']), JSON.stringify(rep.problems));
  assert.equal(rep.imported, good.length);
  const stored = dbQuery(`SELECT fields FROM feed_rows WHERE file_id = ${Number(rep.file_id)} ORDER BY line`)
    .map((r) => (typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields).date_of_death);
  assert.deepEqual(stored, good.map(() => `${MONTH}-05`));
  // months (wage feed): "2026-11junk" is not a month
  const wage = expectStatus(await upload('wage', `citizen_id,name,month,wage_yuan\n${citizenId()},张三,${MONTH}junk,100\n${citizenId()},李四,${MONTH},100\n`), 201);
  assert.deepEqual(wage.problems.map((p) => [p.line, p.field]), [[2, 'month']]);
  assert.equal(wage.imported, 1);
});

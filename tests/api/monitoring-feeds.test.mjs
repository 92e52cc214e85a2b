// Dynamic monitoring (issue 5), department feeds: every source declared with its columns, the
// indicators with category, severity and deadline; the import with its validation by line,
// idempotence, GB18030 files, the CLI and the roles. The month and the registry run are in
// monitoring.test.mjs. Contract: src/monitoring/feeds.cc, src/http/api_monitoring.cc,
// docs/feeds.md, docs/api.md ("Dynamic monitoring").
//
// The month of this file is one no feed, run or alert of the database uses yet (lib/feeds.mjs);
// the persons are fresh random citizen ids.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import {
  as, DB, COUNTY, expectError, expectStatus, citizenId, wrongCheck, dbQuery, dbCount, sqlString, runBin, chineseName,
  sha256Hex,
} from './lib.mjs';
import { pad2, MONTH, MY, MM, D, csv, q, upload, feedRows, isChinese, toGb18030 } from './lib/feeds.mjs';

// ================================================================= 1. feeds
test('feeds: every source is declared with its columns; the indicators with category, severity and deadline', async () => {
  const admin = await as('admin');
  const src = expectStatus(await admin.get('/feeds/sources'), 200).items;
  const kinds = src.map(s => s.kind);
  for (const k of ['death', 'vehicle', 'real_estate', 'business', 'wage', 'medical', 'disability', 'at_risk',
    'other_county_recipient', 'staff_kin'])
    assert.ok(kinds.includes(k), `source ${k} declared: ${kinds}`);
  for (const s of src) {
    assert.equal(s.columns[0].key, 'citizen_id', `${s.kind}: first column`);
    assert.equal(s.columns[0].required, true);
    assert.ok(isChinese(s.label) && s.columns.every(c => isChinese(c.label)), `${s.kind}: Chinese labels`);
  }
  const death = src.find(s => s.kind === 'death');
  assert.deepEqual(death.columns.filter(c => c.required).map(c => c.key), ['citizen_id', 'date_of_death']);
  const ind = expectStatus(await admin.get('/monitor/indicators'), 200).items;
  const byId = Object.fromEntries(ind.map(i => [i.id, i]));
  const expectCat = {
    recipient_died: 'improper', recipient_vehicle: 'improper', recipient_income_rise: 'improper',
    paid_twice_other_county: 'duplicate', paid_twice_dibao_tekun: 'duplicate', at_risk_not_covered: 'missing',
    single_person_candidate: 'missing', illness_poverty_candidate: 'missing', staff_relative_unrecorded: 'improper',
  };
  for (const [id, cat] of Object.entries(expectCat)) {
    assert.ok(byId[id], `indicator ${id}`);
    assert.equal(byId[id].category, cat, `${id} category`);
    assert.ok(['high', 'medium', 'low'].includes(byId[id].severity), `${id} severity`);
    assert.ok(Number.isInteger(byId[id].deadline_working_days) && byId[id].deadline_working_days > 0, `${id} deadline`);
    assert.ok(isChinese(byId[id].description) && byId[id].cite.length > 0, `${id} description and cite`);
  }
});

test('import: good rows go in, each bad row is reported with its line and field; the same file again changes nothing', async () => {
  const admin = await as('admin');
  // Deaths: wrong check character, impossible date, missing required value; a YYYY/MM/DD date;
  // an Excel blank row (",,") that is skipped but still counts as a line.
  const g1 = citizenId(), g2 = citizenId(), g3 = citizenId(), bad1 = citizenId(), bad2 = citizenId(), bad3 = citizenId();
  const n1 = chineseName(), n3 = chineseName();
  const deaths = csv([
    ['citizen_id', 'name', 'date_of_death'], // 1
    [g1, n1, D(3)], // 2
    [wrongCheck(bad1), chineseName(), D(3)], // 3 citizen_id
    [g2, '', `${MY}/${pad2(MM)}/07`], // 4 ok, slashes
    [bad2, chineseName(), '2025-02-30'], // 5 date_of_death
    [bad3, chineseName(), ''], // 6 date_of_death required
    ['', '', ''], // 7 blank
    [g3, n3, D(9)], // 8
  ]);
  const filesBefore = dbCount('feed_files', `county_code = '${COUNTY}'`);
  const rep = expectStatus(await upload(admin, 'death', deaths), 201, 'death upload');
  assert.equal(rep.already_imported, false);
  assert.equal(rep.encoding, 'utf-8');
  assert.equal(rep.rows, 6, `rows (blank line not counted): ${JSON.stringify(rep)}`);
  assert.equal(rep.imported, 3);
  assert.equal(rep.invalid, 3);
  assert.deepEqual(rep.problems.map(p => [p.line, p.field]),
    [[3, 'citizen_id'], [5, 'date_of_death'], [6, 'date_of_death']], JSON.stringify(rep.problems));
  for (const p of rep.problems) assert.ok(isChinese(p.message), `Chinese message: ${JSON.stringify(p)}`);
  assert.match(rep.problems[2].message, /不能为空/);
  assert.equal(dbCount('feed_files', `county_code = '${COUNTY}'`), filesBefore + 1);
  const rows = feedRows(rep.file_id);
  assert.deepEqual(rows.map(r => [r.line, r.citizen_id]), [[2, g1], [4, g2], [8, g3]]);
  assert.equal(rows[0].fields.date_of_death, D(3));
  assert.equal(rows[0].fields.name, n1);
  assert.equal(rows[1].fields.date_of_death, D(7), 'YYYY/MM/DD normalized to YYYY-MM-DD');
  assert.equal(dbCount('feed_rows', `citizen_id IN (${[bad1, bad2, bad3].map(sqlString).join(',')})`), 0,
    'nothing stored for the bad rows');
  const file = dbQuery(`SELECT source, month, rows_total, rows_imported, rows_invalid, sha256 FROM feed_files WHERE id = ${rep.file_id}`)[0];
  assert.deepEqual([file.source, file.month, Number(file.rows_total), Number(file.rows_imported), Number(file.rows_invalid)],
    ['death', MONTH, 6, 3, 3]);
  assert.equal(file.sha256, sha256Hex(deaths));

  // The same file again: 200, already imported, nothing written.
  const feedRowsBefore = dbCount('feed_rows'), filesNow = dbCount('feed_files');
  const again = expectStatus(await upload(admin, 'death', deaths, { filename: 'again.csv' }), 200, 'same file again');
  assert.equal(again.already_imported, true);
  assert.equal(again.file_id, rep.file_id);
  assert.deepEqual([again.rows, again.imported, again.invalid], [6, 3, 3]);
  assert.equal(dbCount('feed_rows'), feedRowsBefore, 'feed_rows unchanged');
  assert.equal(dbCount('feed_files'), filesNow, 'feed_files unchanged');
  assert.equal(dbCount('feed_rows', `file_id = ${rep.file_id}`), 3);

  // Amounts: "1,234.56" → 123456 fen; negative, three decimals, not a number; missing citizen id;
  // a month written YYYY/M.
  const w1 = citizenId(), w2 = citizenId(), w3 = citizenId(), w4 = citizenId(), w5 = citizenId(), w6 = citizenId();
  const wages = csv([
    ['citizen_id', 'name', 'month', 'wage_yuan'], // 1
    [w1, chineseName(), MONTH, q('1,234.56')], // 2
    [w2, chineseName(), MONTH, '-5'], // 3 wage_yuan
    [w3, chineseName(), MONTH, '12.345'], // 4 wage_yuan
    ['', chineseName(), MONTH, '100'], // 5 citizen_id
    [w4, chineseName(), MONTH, '0.5'], // 6
    [w5, chineseName(), '2026/3', '100'], // 7
    [w6, chineseName(), MONTH, 'abc'], // 8 wage_yuan
  ]);
  const wr = expectStatus(await upload(admin, 'wage', wages), 201, 'wage upload');
  assert.deepEqual([wr.rows, wr.imported, wr.invalid], [7, 3, 4], JSON.stringify(wr));
  assert.deepEqual(wr.problems.map(p => [p.line, p.field]),
    [[3, 'wage_yuan'], [4, 'wage_yuan'], [5, 'citizen_id'], [8, 'wage_yuan']], JSON.stringify(wr.problems));
  for (const p of wr.problems) assert.ok(isChinese(p.message), `Chinese message: ${JSON.stringify(p)}`);
  const wrows = feedRows(wr.file_id);
  assert.deepEqual(wrows.map(r => [r.line, r.citizen_id, r.fields.wage_fen, r.fields.month]),
    [[2, w1, 123456, MONTH], [6, w4, 50, MONTH], [7, w5, 10000, '2026-03']]);
  assert.equal(dbCount('feed_rows', `citizen_id IN (${[w2, w3, w6].map(sqlString).join(',')})`), 0);

  // The import is listed with its counts and problems.
  const listed = expectStatus(await admin.get('/feeds?page_size=50'), 200).items.find(f => f.id === wr.file_id);
  assert.ok(listed, 'GET /feeds lists the file');
  assert.deepEqual([listed.source, listed.month, listed.rows, listed.imported, listed.invalid], ['wage', MONTH, 7, 3, 4]);
  assert.equal(listed.problems.length, 4);
});

test('import: a header without a required column is refused naming line 1; bad source/month refused', async () => {
  const admin = await as('admin');
  const before = dbCount('feed_files');
  const text = csv([['citizen_id', 'name'], [citizenId(), chineseName()]]);
  const e = expectError(await upload(admin, 'death', text), 400, 'invalid_argument');
  assert.match(e.message, /第\s*1\s*行/, `names line 1: ${e.message}`);
  assert.match(e.message, /date_of_death|死亡日期/, `names the column: ${e.message}`);
  expectError(await upload(admin, 'no_such_source', csv([['citizen_id'], [citizenId()]])), 400, 'invalid_argument', 'source');
  expectError(await upload(admin, 'death', csv([['citizen_id', 'date_of_death'], [citizenId(), D(1)]]), { month: '2026-13' }),
    400, 'invalid_argument', 'month');
  expectError(await admin.post('/feeds', { source: 'death', month: MONTH }), 400, 'invalid_argument');
  assert.equal(dbCount('feed_files'), before, 'nothing written');
});

test('import: a GB18030 file with Chinese headers (content_base64) is converted; names intact', async () => {
  const admin = await as('admin');
  const a = citizenId(), b = citizenId(), na = chineseName(), nb = '欧阳' + chineseName().slice(1);
  const text = csv([
    ['身份证号', '姓名', '月份', '医疗总费用（元）', '个人自付（元）'],
    [a, na, MONTH, '12345.6', '2345.67'],
    [b, nb, `${MY}/${pad2(MM)}`, '800', '80'],
  ]);
  const bytes = toGb18030(text);
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes), 'the upload is not valid UTF-8');
  const rep = expectStatus(await admin.post('/feeds', { source: 'medical', month: MONTH, filename: '医保结算.csv',
    content_base64: bytes.toString('base64') }), 201, 'GB18030 upload');
  assert.equal(rep.encoding, 'gb18030');
  assert.deepEqual([rep.rows, rep.imported, rep.invalid], [2, 2, 0], JSON.stringify(rep));
  const rows = feedRows(rep.file_id);
  assert.deepEqual(rows.map(r => [r.line, r.citizen_id, r.fields.name, r.fields.total_fen, r.fields.out_of_pocket_fen]),
    [[2, a, na, 1234560, 234567], [3, b, nb, 80000, 8000]]);
  assert.equal(dbQuery(`SELECT encoding FROM feed_files WHERE id = ${rep.file_id}`)[0].encoding, 'gb18030');
  const listed = expectStatus(await admin.get('/feeds?page_size=50'), 200).items.find(f => f.id === rep.file_id);
  assert.equal(listed?.encoding, 'gb18030');
  assert.equal(listed?.filename, '医保结算.csv');
  // The same content again (as UTF-8 text this time) is the same file.
  const again = expectStatus(await admin.post('/feeds', { source: 'medical', month: MONTH, csv_text: text }), 200);
  assert.equal(again.already_imported, true);
  assert.equal(again.file_id, rep.file_id);
});

test('import: the CLI prints FILE:LINE: field: message for a bad row on stderr and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'doudi-feed-'));
  try {
    const file = join(dir, `deaths-${MONTH}.csv`);
    const ok1 = citizenId(), ok2 = citizenId(), bad = citizenId();
    writeFileSync(file, csv([['citizen_id', 'name', 'date_of_death'], [ok1, chineseName(), D(2)],
      [wrongCheck(bad), chineseName(), D(2)], [ok2, chineseName(), '2024-02-30']]));
    const r = runBin(['import-feed', '--db', DB, '--source', 'death', '--month', MONTH, file]);
    assert.equal(r.code, 0, `exit code: ${r.code} ${r.stderr}`);
    const lines = r.stderr.split('\n');
    const l3 = lines.find(l => l.startsWith(`${file}:3: `));
    assert.ok(l3, `stderr names ${file}:3: ${r.stderr}`);
    assert.match(l3, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: citizen_id: \\S`));
    assert.ok(isChinese(l3.split(': ').slice(2).join(': ')), `Chinese message: ${l3}`);
    const l4 = lines.find(l => l.startsWith(`${file}:4: `));
    assert.ok(l4 && /:4: date_of_death: \S/.test(l4), `stderr names line 4 date_of_death: ${r.stderr}`);
    assert.ok(!lines.some(l => l.startsWith(`${file}:2:`)), 'no problem on the good line');
    const f = dbQuery(`SELECT id, month, rows_imported, rows_invalid FROM feed_files WHERE filename = ${sqlString(basename(file))}
      AND source = 'death' ORDER BY id DESC`);
    assert.equal(f.length, 1, 'one file imported by the CLI');
    assert.deepEqual([f[0].month, Number(f[0].rows_imported), Number(f[0].rows_invalid)], [MONTH, 1, 2]);
    assert.deepEqual(feedRows(f[0].id).map(x => x.citizen_id), [ok1]);
    // Again: nothing changes, still exit 0.
    const again = runBin(['import-feed', '--db', DB, '--source', 'death', '--month', MONTH, file]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(dbCount('feed_files', `filename = ${sqlString(basename(file))}`), 1);
    assert.equal(dbCount('feed_rows', `file_id = ${f[0].id}`), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('import roles: village assistant and town clerk cannot upload (403); the department liaison can', async () => {
  const text = () => csv([['citizen_id', 'date_of_death'], [citizenId(), D(1)]]);
  const before = dbCount('feed_files');
  for (const u of ['village1', 'town_clerk'])
    expectError(await upload(await as(u), 'death', text()), 403, 'permission_denied');
  assert.equal(dbCount('feed_files'), before, 'nothing written by refused uploads');
  const rep = expectStatus(await upload(await as('liaison'), 'death', text()), 201, 'liaison upload');
  assert.equal(rep.imported, 1);
  assert.equal(dbQuery(`SELECT imported_by FROM feed_files WHERE id = ${rep.file_id}`)[0].imported_by, 'liaison');
  expectError(await (await as('village1')).get('/feeds'), 403, 'permission_denied');
});

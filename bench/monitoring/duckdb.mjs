// The DuckDB peer of bench/monitoring: the same match as bench_monitoring_engine, straight
// from the CSVs (DuckDB's parallel CSV reader, explicit columns, no type sniffing), keeping
// the matches in memory (the registry person's household and the feed row's fields).
//
// Usage: node duckdb.mjs DIR [memory_limit]      (e.g. node duckdb.mjs /tmp/x 500MB)
// Prints the query's wall time and the process's peak RSS; the last line is machine-readable:
//   RESULT duckdb wall_s=... matched=... peak_rss_mb=...
// Note: DuckDB joins the id strings as written; it does not validate ids (the engine does).
import { DuckDBInstance } from '@duckdb/node-api';
import os from 'node:os';

const [dir, memoryLimit] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node duckdb.mjs DIR [memory_limit]');
  process.exit(2);
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const options = { threads: String(os.availableParallelism()) };
if (memoryLimit) options.memory_limit = memoryLimit;

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:', options);
const connection = await instance.connect();
const t1 = performance.now();
const csv = (file, columns) =>
  `read_csv(${quote(`${dir}/${file}`)}, header = true, delim = ',', quote = '"', escape = '"', ` +
  `auto_detect = false, columns = {${columns.map((c) => `'${c}': 'VARCHAR'`).join(', ')}})`;
await connection.run(
  `CREATE TABLE matches AS
   SELECT r.household_id, f.citizen_id, f.event_date, f.amount, f.source
   FROM ${csv('feed.csv', ['citizen_id', 'event_date', 'amount', 'source'])} AS f
   JOIN ${csv('registry.csv', ['citizen_id', 'name', 'household_id'])} AS r USING (citizen_id)`);
const reader = await connection.runAndReadAll('SELECT count(*) FROM matches');
const matched = Number(reader.getRows()[0][0]);
const t2 = performance.now();

const rssMb = process.resourceUsage().maxRSS / 1024;
const wall = (t2 - t1) / 1000;
console.log(`duckdb: ${matched} matched in ${wall.toFixed(3)} s (start-up ${((t1 - t0) / 1000).toFixed(3)} s), ` +
            `threads ${options.threads}, memory_limit ${memoryLimit ?? 'default'}, peak RSS ${rssMb.toFixed(0)} MB`);
console.log(`RESULT duckdb wall_s=${wall.toFixed(3)} matched=${matched} peak_rss_mb=${rssMb.toFixed(0)}`);
connection.closeSync();

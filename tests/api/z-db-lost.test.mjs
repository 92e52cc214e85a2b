// When PostgreSQL ends the server's connections (a restart, a failover, an administrator's
// pg_terminate_backend), the requests that meet a lost connection answer 503 with a Chinese
// message (or, for a write whose COMMIT was sent before the loss showed, 500 outcome_unknown:
// it may have committed), and the server then serves again on new connections, without a
// restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { as, expectStatus, createHousehold, householdInput, dbQuery, DB_KIND, VILLAGE1 } from './lib.mjs';

const pgOnly = { skip: DB_KIND !== 'postgresql' && 'PostgreSQL only: a SQLite connection is a file handle' };

test('connections lost to PostgreSQL are replaced; the requests that met one get 503', pgOnly, async () => {
  const clerk = await as('town_clerk');
  const h = await createHousehold(await as('village1'), VILLAGE1);
  const { members, ...input } = householdInput(VILLAGE1);
  // One round: a list page, a household, an update of it (the write queue's connection).
  const round = async (n) => {
    const list = await clerk.get('/households?page_size=5');
    const one = await clerk.get(`/households/${h.id}`);
    const version = one.status === 200 ? one.body.version : 0;
    const put = await clerk.put(`/households/${h.id}`, { ...input, residence_address: `乔南村 第 ${n} 轮`, version });
    return [list, one, put];
  };
  for (const r of await round(0)) expectStatus(r, 200, 'before');

  const ended = dbQuery(`SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity
                          WHERE datname = current_database() AND pid <> pg_backend_pid()
                            AND backend_type = 'client backend'`);
  assert.ok(ended.length >= 2 && ended.every(r => r.ended === true), `ended: ${JSON.stringify(ended)}`);

  let failed = 0;
  let served = false;
  for (let n = 1; n <= 10 && !served; ++n) {
    const answers = await round(n);
    for (const r of answers.filter(r => r.status !== 200)) {
      ++failed;
      if (r.status === 500 && r.body?.error?.code === 'outcome_unknown') {
        assert.match(r.body.error.message, /操作结果未知/);
        continue;
      }
      assert.equal(r.status, 503, `a lost connection: ${r.status} ${r.text}`);
      assert.equal(r.body.error.code, 'unavailable');
      assert.match(r.body.error.message, /数据库暂时无法连接/);
    }
    served = answers.every(r => r.status === 200);
  }
  assert.ok(served, 'the server did not recover within 10 rounds');
  assert.ok(failed >= 1, 'no request met a lost connection: the test did not end any');
  for (let n = 11; n <= 20; ++n) for (const r of await round(n)) expectStatus(r, 200, `round ${n}`);
  const last = expectStatus(await clerk.get(`/households/${h.id}`), 200);
  assert.equal(last.residence_address, '乔南村 第 20 轮');
  const verify = expectStatus(await (await as('auditor')).get('/audit/verify'), 200);
  assert.equal(verify.ok, true, JSON.stringify(verify));
});

// Browser test of issue 17 #12: a village assistant who resolves an alert of a wrong payment as
// confirmed only proposes it (status 待镇街确认, nothing suspended); the town clerk sees the
// proposal in the alerts inbox and confirms it, and only then is the household's dibao suspended.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' DOUDI_DB=sqlite:/path/e2e.db \
//   DOUDI_BIN=build/doudi node --test tests/e2e/alert-proposal.test.mjs
//
// The household, its dibao enrollment and the alert are written through the API and the database
// (as an approval and a monitoring run would leave them), with the helpers of tests/api/lib.mjs.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DESKTOP, PHONE, asUserIn, clickFor, close, launch, tid, apiLib } from './lib.mjs'

const api = await apiLib()

before(launch)
after(close)

const asUser = (step, username, viewport, fn) => asUserIn('alert-proposal', step, username, viewport, fn)

test('a village assistant proposes, the town confirms; the dibao is suspended only then', async () => {
  const today = api.todayShanghai()
  const clerk = await api.as('town_clerk')
  const h = await api.createHousehold(clerk, api.VILLAGE1, api.dibaoMembers())
  const head = h.members.find((m) => m.relation === 'head')
  const now = `${today}T09:00:00+08:00`
  api.dbExec(`INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen,
    first_paid_month, status, next_review_date, created_at, updated_at) VALUES (${Number(h.id)}, '370725', '${h.town_code}',
    '${h.village_code}', 'dibao', '[]', 60000, '${today.slice(0, 7)}', 'active', '${today}', '${now}', '${now}')`)
  api.dbExec(`INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code,
    town_code, village_code, month, details, status, due_date, created_at, updated_at) VALUES
    ('deceased_still_paid', 'improper', 'high', ${api.sqlString(head.citizen_id)}, ${api.sqlString(head.name)}, ${Number(h.id)},
     '370725', '${h.town_code}', '${h.village_code}', '2048-01', '{"source":"test"}', 'verifying', '2099-12-31', '${now}', '${now}')`)
  const id = Number(api.dbQuery(`SELECT max(id) AS id FROM alerts WHERE household_id = ${Number(h.id)}`)[0].id)
  const dibao = () => api.dbQuery(`SELECT status FROM enrollments WHERE household_id = ${Number(h.id)}`)[0].status

  await asUser('village', 'village1', PHONE, async (page) => {
    await page.goto(`${BASE}/monitoring/alerts`)
    const status = page.locator(tid(`alert-status-${id}`))
    await status.getByText('核查中', { exact: true }).waitFor()
    await page.locator(tid(`alert-resolve-${id}`)).click()
    await page.locator(tid('alert-resolve-dialog')).waitFor()
    await page.locator(tid('resolve-confirmed-true')).click()
    await page.locator(tid('resolve-effect')).getByText(/提交镇街/).waitFor()
    await page.locator(tid('resolve-note')).fill('入户核实：户主已去世')
    const res = await clickFor(page, tid('resolve-submit'), `/api/v1/alerts/${id}/actions`, 'POST')
    assert.equal(res.status(), 200, await res.text())
    assert.equal((await res.json()).status, 'proposed')
    await status.getByText('待镇街确认', { exact: true }).waitFor()
    assert.equal(await page.locator(tid(`alert-confirm-${id}`)).count(), 0, 'the village assistant cannot confirm')
  })
  assert.equal(dibao(), 'active', 'nothing suspended by the proposal')

  await asUser('town', 'town_clerk', DESKTOP, async (page) => {
    await page.goto(`${BASE}/monitoring/alerts`)
    await page.locator(tid(`alert-status-${id}`)).getByText('待镇街确认', { exact: true }).waitFor()
    const res = await clickFor(page, tid(`alert-confirm-${id}`), `/api/v1/alerts/${id}/actions`, 'POST')
    assert.equal(res.status(), 200, await res.text())
    const body = await res.json()
    assert.equal(body.status, 'resolved')
    assert.equal(body.suspended_enrollments, 1)
    await page.locator(tid('alerts-last-suspended')).getByText(/已暂停 1 项/).waitFor()
  })
  assert.equal(dibao(), 'suspended', 'suspended once the town confirmed')
})

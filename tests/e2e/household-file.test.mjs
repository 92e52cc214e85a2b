// Browser test of 一户一案 (docs/api.md, GET /api/v1/households/{id}/file) on the household page:
// the town clerk opens a demo household of 乔南村 that has no case yet and sees the card's empty
// state; an application is then created through the API with the page's own session (cookies
// and CSRF token), and after a reload the card lists its case number with a link to the case.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' node --test tests/e2e/household-file.test.mjs
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DESKTOP, PHONE, apiLib, close, launch, login, randomCitizenId, tid, withPage } from './lib.mjs'

before(launch)
after(close)

const VILLAGE = '370725107202' // 乔官镇乔南村

/** GET on the page's session (the browser context shares its cookies with page.request). */
async function apiGet(page, path) {
  const res = await page.request.get(`${BASE}${path}`)
  assert.equal(res.status(), 200, `GET ${path}: ${await res.text()}`)
  return res.json()
}

/**
 * The first household of the village whose file is empty (no application, no enrollment). The
 * demo data has few such households (one per village is a dibao recipient), so when none is left
 * a fresh one-person household (the API suite's payload) is registered with the page's session.
 */
async function householdWithoutCases(page) {
  const list = await apiGet(page, `/api/v1/households?region=${VILLAGE}&page_size=200`)
  for (const h of list.items) {
    if (h.head_name === '王建国') continue // workflow.test.mjs walks this one to enrollment
    const file = await apiGet(page, `/api/v1/households/${h.id}/file`)
    if (file.applications.length === 0 && file.enrollments.length === 0) return h
  }
  const session = await apiGet(page, '/api/v1/session')
  const api = await apiLib()
  const res = await page.request.post(`${BASE}/api/v1/households`, {
    headers: { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json' },
    data: api.householdInput(VILLAGE, [api.personInput({ citizen_id: randomCitizenId(1960, 1990) })]),
  })
  assert.equal(res.status(), 201, `create household: ${await res.text()}`)
  return res.json()
}

for (const [name, viewport] of [
  ['household-file', DESKTOP],
  ['household-file-phone', PHONE],
]) {
  test(`一户一案: empty state, then the new application's case number (${viewport.width} px)`, async () => {
    await withPage(name, viewport, async (page) => {
      await login(page, 'town_clerk')
      await page.waitForURL((u) => !u.pathname.startsWith('/login'))

      const h = await householdWithoutCases(page)
      await page.goto(`${BASE}/households/${h.id}`)
      const card = page.locator(tid('household-file-card'))
      await card.waitFor()
      await card.locator(tid('household-file-empty')).waitFor()
      assert.equal(await card.locator(tid('household-file-applications')).count(), 0, 'no application table while empty')

      // Create one application with the page's session.
      const session = await apiGet(page, '/api/v1/session')
      const household = await apiGet(page, `/api/v1/households/${h.id}`)
      const head = household.members.find((m) => m.relation === 'head')
      assert.ok(head, 'the household has a head')
      const res = await page.request.post(`${BASE}/api/v1/applications`, {
        headers: { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json' },
        data: {
          household_id: h.id,
          channel: 'window',
          programs: ['dibao'],
          applicant_person_id: head.id,
          authorization: true,
          commitment: true,
          note: 'e2e 一户一案',
        },
      })
      assert.equal(res.status(), 201, `create application: ${await res.text()}`)
      const app = await res.json()
      assert.match(app.case_no, /\S/, 'the new application has a case number')

      await page.reload()
      await card.waitFor()
      const link = card.locator(tid(`household-file-case-${app.id}`))
      await link.waitFor()
      assert.equal((await link.textContent()).trim(), app.case_no)
      assert.equal(await card.locator(tid('household-file-empty')).count(), 0, 'the empty state is gone')
      const rows = card.locator(`${tid('household-file-applications')} .el-table__body tr`)
      assert.equal(await rows.count(), 1, 'exactly the one new application is listed')
      // The state label of a fresh window application: 待受理.
      await card.locator(tid('household-file-applications')).getByText('待受理').waitFor()

      if (viewport.width <= 400) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px at 375 px`)
      }

      await link.click()
      await page.waitForURL((u) => u.pathname === `/cases/${app.id}`)
    })
  })
}

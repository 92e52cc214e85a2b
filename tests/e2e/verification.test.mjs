// Browser test of cross-region verification (异地协查): a town clerk of 昌乐 (370725) sends a
// request about a registered applicant whose hukou is in 织金 (520524) from the 异地协查 page;
// a county admin of 织金 (created with `doudi user add`) answers it on a phone; the clerk then
// sees the answer among the requests sent.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' DOUDI_DB=sqlite:/path/e2e.db \
//   DOUDI_BIN=build/doudi node --test tests/e2e/verification.test.mjs
//
// DOUDI_DB and DOUDI_BIN must name the server's database and binary (the 织金 user is added with
// the CLI; the request id is read from the database). On failure a screenshot of the failing step
// is left in /tmp/e2e-verification-<step>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DESKTOP, PASSWORD, PHONE, clickFor, close, fieldError, launch, login, tid, asUserIn, apiLib } from './lib.mjs'

const api = await apiLib()

before(launch)
after(close)

const HUKOU_COUNTY = '520524' // 织金县
const S = {}

const asUser = (step, username, viewport, fn) => asUserIn('verification', step, username, viewport, fn)

test('verification: the town clerk sends a request to the hukou county from the 异地协查 page', async () => {
  const clerk = await api.as('town_clerk')
  S.household = await api.createHousehold(clerk)
  S.head = S.household.members.find((m) => m.relation === 'head')

  await asUser('create', 'town_clerk', DESKTOP, async (page) => {
    await page.locator(tid('menu-verification')).click()
    await page.waitForURL(/\/verification$/)
    // A town clerk cannot answer: the page opens on the requests sent.
    await page.locator(`${tid('verification-tab-outgoing')}.is-active`).waitFor()

    await page.locator(tid('verification-new')).click()
    const dialog = page.locator(tid('verification-create-dialog'))
    await dialog.waitFor()
    // The own county is no cross-region request.
    await dialog.locator(tid('verification-county')).fill(api.COUNTY)
    await dialog.locator(tid('verification-create-submit')).click()
    await fieldError(dialog, 'hukou_county').getByText('户籍在本县的无需异地协查').waitFor()
    await fieldError(dialog, 'household_id').getByText('请选择').waitFor()

    await dialog.locator(tid('verification-county')).fill(HUKOU_COUNTY)
    const picker = dialog.locator(`${tid('verification-household')} input`)
    await picker.click()
    await picker.fill(S.head.name)
    await page.locator(tid(`household-option-${S.household.id}`)).click()
    await dialog.locator(tid('verification-applicant')).getByText(S.head.name).waitFor()
    await dialog.locator(tid('verification-note')).fill('请核实户籍、婚姻及房产情况')
    await dialog.locator(`${tid('verification-authorization')}`).click()
    await dialog.locator(`${tid('verification-commitment')}`).click()
    const res = await clickFor(page, tid('verification-create-submit'), '/api/v1/applications', 'POST')
    assert.equal(res.status(), 201, await res.text())
    const app = await res.json()
    await dialog.waitFor({ state: 'hidden' })

    const rows = api.dbQuery(`SELECT id, to_county, status FROM verification_requests WHERE application_id = ${Number(app.id)}`)
    assert.deepEqual(rows.map((r) => [r.to_county, r.status]), [[HUKOU_COUNTY, 'open']])
    S.requestId = Number(rows[0].id)
    await page.locator(tid(`verification-status-${S.requestId}`)).getByText('待答复').waitFor()
    await page.locator(tid(`verification-row-${S.requestId}`)).getByText(S.head.name).waitFor()
  })
})

test('verification: a county admin of the hukou county answers it on a phone', async () => {
  assert.ok(S.requestId, 'the request was sent (see the test above)')
  const admin = api.uniq('zj_admin')
  const r = api.runBin(['user', 'add', '--db', api.DB, '--username', admin, '--password', PASSWORD, '--name', '织金管理员',
    '--role', 'county_admin', '--region', HUKOU_COUNTY])
  assert.equal(r.code, 0, r.stderr)
  // A county admin made with the CLI changes the password and enrols TOTP at first login
  // (tests/e2e/account.test.mjs does that in the browser); here the API takes those steps.
  await api.login(admin)

  await asUser('answer', admin, PHONE, async (page) => {
    await page.goto(`${BASE}/verification`)
    // County staff who answer start on the requests received.
    await page.locator(`${tid('verification-tab-incoming')}.is-active`).waitFor()
    const status = page.locator(tid(`verification-status-${S.requestId}`))
    await status.getByText('待答复').waitFor()
    // What to verify arrived with the request.
    await page.locator(tid(`verification-subject-${S.requestId}`)).getByText('请核实户籍、婚姻及房产情况').waitFor()
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(width <= PHONE.width + 1, `page width ${width}`)

    await page.locator(tid(`verification-answer-btn-${S.requestId}`)).click()
    const dialog = page.locator(tid('verification-answer-dialog'))
    await dialog.waitFor()
    await dialog.locator(tid('verification-answer-submit')).click()
    await fieldError(dialog, 'answer').getByText('请填写核查结果').waitFor()
    await dialog.locator(tid('verification-answer-input')).fill('经核实：户籍在本县，未婚，名下无房产。')
    const res = await clickFor(page, tid('verification-answer-submit'), `/api/v1/verification-requests/${S.requestId}/answer`, 'POST')
    assert.equal(res.status(), 200, await res.text())
    await dialog.waitFor({ state: 'hidden' })
    await status.getByText('已答复').waitFor()
    await page.locator(tid(`verification-answer-${S.requestId}`)).getByText('名下无房产').waitFor()
    assert.equal(await page.locator(tid(`verification-answer-btn-${S.requestId}`)).count(), 0)
  })
})

test('verification: the clerk sees the answer among the requests sent', async () => {
  assert.ok(S.requestId, 'the request was sent (see the first test)')
  await asUser('answered', 'town_clerk', DESKTOP, async (page) => {
    await page.goto(`${BASE}/verification`)
    await page.locator(tid(`verification-status-${S.requestId}`)).getByText('已答复').waitFor()
    await page.locator(tid(`verification-answer-${S.requestId}`)).getByText('经核实').waitFor()
    // Nothing was received by 昌乐 from this exchange.
    // The list reloads after the tab switch: read what the server answered, then wait for the
    // outgoing rows to leave the page (counting them at once raced the re-render).
    const res = await clickFor(page, tid('verification-tab-incoming'), '/api/v1/verification-requests', 'GET')
    assert.equal(res.status(), 200, await res.text())
    assert.ok(new URL(res.url()).searchParams.get('direction') === 'incoming', res.url())
    assert.deepEqual((await res.json()).items.filter((r) => Number(r.id) === S.requestId), [])
    await page.locator(`${tid('verification-tab-incoming')}.is-active`).waitFor()
    await page.locator(tid(`verification-status-${S.requestId}`)).waitFor({ state: 'detached' })
  })
})

// Browser test of dynamic monitoring (动态监测): a death feed uploaded as an Excel file, the
// month's comparison run, the resulting alert verified and resolved in the inbox (which suspends
// the recipient's dibao), the rectification report, and a visit recorded on the monthly
// screening page by the village assistant on a phone.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' DOUDI_DB=sqlite:/path/e2e.db \
//   DOUDI_BIN=build/doudi node --test tests/e2e/monitoring.test.mjs
//
// The registry situation (two dibao recipients of 乔南村) is built through the API with the
// helpers of tests/api/lib.mjs (a case driven to `enrolled`; the 7-day public notice is ended in
// the database), so DOUDI_DB must name the server's database. The feed month is one no feed, run
// or alert of the database uses yet (2027–2036), so the test can run repeatedly on one database;
// the screening part uses the current month (visits cannot be recorded for future months) and
// puts the second recipient's review date on today. On failure a screenshot of the failing step
// is left in /tmp/e2e-monitoring-<step>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import ExcelJS from 'exceljs'
import { BASE, DESKTOP, PHONE, choose, clickFor, close, fieldError, launch, tid, asUserIn, apiLib } from './lib.mjs'

const api = await apiLib()

before(launch)
after(close)

const VILLAGE = '370725107202' // 乔官镇乔南村, the village of the demo user village1
const pad2 = (n) => String(n).padStart(2, '0')

/** A month between 2027-01 and 2036-12 that no feed, alert or run of the database uses. */
function pickMonth() {
  const used = new Set(
    api.dbQuery('SELECT month FROM feed_files UNION SELECT month FROM alerts UNION SELECT month FROM monitor_runs').map((r) => r.month),
  )
  const free = []
  for (let y = 2027; y <= 2036; y++) for (let m = 1; m <= 12; m++) if (!used.has(`${y}-${pad2(m)}`)) free.push(`${y}-${pad2(m)}`)
  assert.ok(free.length > 0, 'no unused month left between 2027-01 and 2036-12')
  return free[randomInt(0, free.length)]
}

const MONTH = pickMonth()
const TODAY = api.todayShanghai()
const S = { ready: false }

/** A fresh one-person household of 乔南村 brought to `enrolled` in dibao through the workflow. */
async function dibaoRecipient() {
  const head = api.personInput({ relation: 'head', citizen_id: api.citizenId({ birth: api.randomBirth(1970, 1985) }) })
  const { household, app } = await api.newCase({ village: VILLAGE, members: [head], programs: ['dibao'] })
  await api.driveTo(app.id, 'enrolled')
  const ens = api.dbQuery(`SELECT id, status FROM enrollments WHERE household_id = ${Number(household.id)} AND program = 'dibao'`)
  assert.deepEqual(ens.map((e) => e.status), ['active'], `household ${household.id} enrolled in dibao`)
  return { household, head: household.members.find((m) => m.relation === 'head') }
}

/** The death feed as an .xlsx workbook: one good row (a real date cell), one row with a bad id. */
async function deathWorkbook(person, badId) {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('死亡人员')
  ws.addRow(['身份证号', '姓名', '死亡日期'])
  const [y, m] = MONTH.split('-').map(Number)
  ws.addRow([person.citizen_id, person.name, new Date(Date.UTC(y, m - 1, 4))])
  ws.getCell('C2').numFmt = 'yyyy"年"m"月"d"日"'
  ws.addRow([badId, '错号人', `${MONTH}-05`])
  return Buffer.from(await wb.xlsx.writeBuffer())
}

const asUser = (step, username, viewport, fn) => asUserIn('monitoring', step, username, viewport, fn)

/** Types a month (YYYY-MM) into the el-date-picker inside the element with data-testid `testId`. */
async function typeMonth(page, testId, month) {
  const input = page.locator(`${tid(testId)} input`).first()
  await input.click()
  await input.fill(month)
  await input.press('Enter')
  await page.keyboard.press('Escape')
  assert.equal(await input.inputValue(), month)
}

function needSetup() {
  assert.ok(S.ready, 'the registry situation was not built (see the first test)')
}

test('monitoring: build the registry situation through the API', async () => {
  S.died = await dibaoRecipient()
  S.screened = await dibaoRecipient()
  // The second recipient's periodic review falls due today: listed on this month's screening.
  api.dbExec(`UPDATE enrollments SET next_review_date = ${api.sqlString(TODAY)} WHERE household_id = ${Number(S.screened.household.id)}`)
  S.ready = true
})

test('data import: a death feed in Excel is converted in the browser, imported as a job and reported by row', async () => {
  needSetup()
  const badId = api.wrongCheck(api.citizenId())
  const xlsx = await deathWorkbook(S.died.head, badId)
  const filename = `死亡人员-${MONTH}.xlsx`
  await asUser('feeds', 'admin', DESKTOP, async (page) => {
    await page.locator(tid('menu-monitoringFeeds')).click()
    await page.waitForURL(/\/monitoring\/feeds$/)
    // Nothing is sent without a file.
    await page.locator(tid('feeds-submit')).click()
    await fieldError(page, 'file').getByText('请选择要上传的文件').waitFor()

    await choose(page, 'feeds-source', '死亡人员')
    // The expected columns of the source.
    const columns = page.locator(tid('feeds-columns'))
    await columns.getByText('死亡日期').waitFor()
    await columns.getByText('身份证号').waitFor()
    await typeMonth(page, 'field-month', MONTH)
    await page.locator(tid('feeds-file')).setInputFiles({
      name: filename,
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: xlsx,
    })

    const res = await clickFor(page, tid('feeds-submit'), '/api/v1/feeds', 'POST')
    assert.equal(res.status(), 202, `upload: ${await res.text()}`)
    const sent = JSON.parse(res.request().postData() ?? '{}')
    assert.equal(sent.async, true)
    assert.equal(sent.month, MONTH)
    assert.equal(sent.source, 'death')
    // The workbook became CSV text: header row, the date cell as YYYY-MM-DD.
    assert.equal(
      sent.csv_text,
      `身份证号,姓名,死亡日期\n${S.died.head.citizen_id},${S.died.head.name},${MONTH}-04\n${badId},错号人,${MONTH}-05\n`,
    )

    // The job's progress bar reaches done; then the counts and the row problem.
    await page.locator(`${tid('feeds-job')}[data-status="done"]`).waitFor()
    await page.locator(tid('feeds-job')).getByText('100%').waitFor()
    const result = page.locator(tid('feeds-result'))
    await result.waitFor()
    assert.equal((await page.locator(tid('feeds-result-rows')).innerText()).trim(), '2')
    assert.equal((await page.locator(tid('feeds-result-imported')).innerText()).trim(), '1')
    assert.equal((await page.locator(tid('feeds-result-invalid')).innerText()).trim(), '1')
    const problem = page.locator(`${tid('feeds-problems')} .el-table__body tr`)
    assert.equal(await problem.count(), 1)
    const cells = await problem.first().locator('td').allInnerTexts()
    assert.equal(cells[0].trim(), '3', 'line 3 of the file')
    assert.equal(cells[1].trim(), '身份证号')
    assert.match(cells[2], /[\u4e00-\u9fff]/, 'a Chinese message')

    // The import history lists the file with its counts.
    const row = page.locator(`${tid('feeds-history-table')} .el-table__body tr`, { hasText: filename }).first()
    await row.waitFor()
    assert.match(await row.innerText(), new RegExp(`死亡人员[\\s\\S]*${MONTH}`))

    // A CSV (sent as bytes) whose header lacks the required columns: the job fails, the server's
    // message is shown under the file.
    await page.locator(tid('feeds-file')).setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('编号,备注\n1,2\n') })
    const bad = await clickFor(page, tid('feeds-submit'), '/api/v1/feeds', 'POST')
    assert.equal(bad.status(), 202)
    assert.ok(JSON.parse(bad.request().postData() ?? '{}').content_base64, 'a CSV is sent as base64 bytes')
    await page.locator(`${tid('feeds-job')}[data-status="failed"]`).waitFor()
    await fieldError(page, 'file').getByText(/缺少列/).waitFor()
    await page.locator(tid('feeds-error')).getByText(/缺少列/).waitFor()
  })
})

test('monthly run: started on the runs page, followed to the end, alerts raised and listed in the history', async () => {
  needSetup()
  await asUser('runs', 'admin', DESKTOP, async (page) => {
    await page.locator(tid('menu-monitoringRuns')).click()
    await page.waitForURL(/\/monitoring\/runs$/)
    await page.locator(tid('runs-indicators')).getByText('违规享受').first().waitFor()
    await typeMonth(page, 'field-month', MONTH)
    const res = await clickFor(page, tid('runs-start'), '/api/v1/monitor/runs', 'POST')
    assert.equal(res.status(), 202, `run: ${await res.text()}`)
    await page.locator(`${tid('runs-job')}[data-status="done"]`).waitFor({ timeout: 60_000 })
    await page.locator(tid('runs-result')).waitFor()
    const raised = Number((await page.locator(tid('runs-result-raised')).innerText()).trim())
    assert.ok(raised >= 1, `alerts raised: ${raised}`)
    assert.ok(Number((await page.locator(tid('runs-result-matched')).innerText()).trim()) >= 1, 'the feed row matched')
    await page.locator(tid('runs-by-indicator')).getByText(/死亡/).first().waitFor()
    // The history: the run of this month, started by hand.
    const row = page.locator(`${tid('runs-history')} .el-table__body tr`, { hasText: MONTH }).first()
    await row.waitFor()
    assert.match(await row.innerText(), /手动/)
  })
  const alerts = api.dbQuery(`SELECT id, indicator, status FROM alerts WHERE month = ${api.sqlString(MONTH)}
    AND household_id = ${Number(S.died.household.id)}`)
  assert.deepEqual(alerts.map((a) => [a.indicator, a.status]), [['recipient_died', 'new']])
  S.alertId = Number(alerts[0].id)
})

test('alerts inbox: the death alert is verified, then resolved as confirmed, which suspends the dibao', async () => {
  needSetup()
  assert.ok(S.alertId, 'the run raised the alert (see the test above)')
  const id = S.alertId
  await asUser('alerts', 'admin', DESKTOP, async (page) => {
    await page.locator(tid('menu-monitoringAlerts')).click()
    await page.waitForURL(/\/monitoring\/alerts$/)
    await choose(page, 'alerts-filter-indicator', '死亡')
    const status = page.locator(tid(`alert-status-${id}`))
    await status.getByText('待核查', { exact: true }).waitFor()
    const row = page.locator(`${tid('alerts-table')} .el-table__body tr`, { has: status })
    assert.match(await row.first().innerText(), new RegExp(S.died.head.name))
    assert.equal(await page.locator(tid(`alert-household-${id}`)).getAttribute('href'), `/households/${S.died.household.id}`)

    // new → verifying
    const vr = await clickFor(page, tid(`alert-verify-${id}`), `/api/v1/alerts/${id}/actions`, 'POST')
    assert.equal(vr.status(), 200, `verify: ${await vr.text()}`)
    await status.getByText('核查中', { exact: true }).waitFor()

    // Resolve: finding and note are required; the effect of "属实" is explained.
    await page.locator(tid(`alert-resolve-${id}`)).click()
    const dialog = page.locator(tid('alert-resolve-dialog'))
    await dialog.waitFor()
    await page.locator(tid('resolve-submit')).click()
    await fieldError(dialog, 'confirmed').getByText('请选择核查结论').waitFor()
    await fieldError(dialog, 'note').getByText('请填写处理说明').waitFor()
    await page.locator(tid('resolve-confirmed-true')).click()
    await page.locator(tid('resolve-effect')).getByText(/暂停发放/).waitFor()
    await page.locator(tid('resolve-note')).fill('经入户核实本人已死亡，停发待终止')
    const rr = await clickFor(page, tid('resolve-submit'), `/api/v1/alerts/${id}/actions`, 'POST')
    assert.equal(rr.status(), 200, `resolve: ${await rr.text()}`)
    const body = await rr.json()
    assert.equal(body.status, 'resolved')
    assert.ok(body.suspended_enrollments >= 1, JSON.stringify(body))
    await page.locator(tid('alerts-last-suspended')).getByText(/已暂停 \d+ 项/).waitFor()

    // Gone from the open alerts; listed as 已办结 among the resolved ones.
    await status.waitFor({ state: 'detached' })
    await choose(page, 'alerts-filter-status', '已办结')
    await page.locator(tid(`alert-status-${id}`)).getByText('已办结', { exact: true }).waitFor()
  })
  const ens = api.dbQuery(`SELECT status FROM enrollments WHERE household_id = ${Number(S.died.household.id)} AND program = 'dibao'`)
  assert.deepEqual(ens.map((e) => e.status), ['suspended'], 'the confirmed death suspended the dibao enrollment')
})

test('rectification report: the month by town, with the chart', async () => {
  needSetup()
  await asUser('rectification', 'admin', DESKTOP, async (page) => {
    await page.locator(tid('menu-monitoringRectification')).click()
    await page.waitForURL(/\/monitoring\/rectification$/)
    await typeMonth(page, 'rect-month', MONTH)
    await page.locator(tid('rect-grand')).getByText(/已办结 [1-9]/).waitFor()
    // 乔官镇 (370725107): the resolved, confirmed improper payment.
    const resolved = Number((await page.locator(tid('rect-370725107-improper-resolved')).innerText()).trim())
    const confirmed = Number((await page.locator(tid('rect-370725107-improper-confirmed')).innerText()).trim())
    assert.ok(resolved >= 1 && confirmed >= 1, `improper resolved ${resolved}, confirmed ${confirmed}`)
    await page.locator(`${tid('rect-chart')} canvas`).first().waitFor()
  })
})

test('monthly screening on a phone: the village assistant records a visit and downloads the list', async () => {
  needSetup()
  const hid = S.screened.household.id
  await asUser('screening', 'village1', PHONE, async (page) => {
    await page.goto(`${BASE}/monitoring/screening`)
    const record = page.locator(tid(`screening-record-${hid}`))
    await record.waitFor()
    const visited = Number((await page.locator(tid('screening-sum-visited')).innerText()).trim())
    await page.locator(tid(`screening-visit-${hid}`)).getByText('未走访').waitFor()
    // No horizontal scrolling of the page itself at 375 px (tables scroll inside their card).
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(width <= PHONE.width + 1, `page width ${width}`)

    await record.click()
    const dialog = page.locator(tid('screening-visit-dialog'))
    await dialog.waitFor()
    // "Changed" needs a note.
    await page.locator(tid('visit-result-changed')).click()
    await page.locator(tid('visit-submit')).click()
    await fieldError(dialog, 'note').getByText(/请写明具体情况/).waitFor()
    await page.locator(tid('visit-note')).fill('家中新增务工收入，需复核')
    const res = await clickFor(page, tid('visit-submit'), '/api/v1/screening/visits', 'POST')
    assert.equal(res.status(), 201, `visit: ${await res.text()}`)
    await page.locator(tid(`screening-visit-${hid}`)).getByText('情况有变化，需复核').waitFor()
    await page.locator(tid('screening-sum-visited')).getByText(String(visited + 1), { exact: true }).waitFor()

    // The month's list as an Excel download, named by the server.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(tid('screening-export-list')).click()])
    assert.match(download.suggestedFilename(), /月排查清单\.xlsx$/)
  })
  const visits = api.dbQuery(`SELECT result, visited_on FROM screening_visits WHERE household_id = ${Number(hid)}
    AND month = ${api.sqlString(TODAY.slice(0, 7))}`)
  assert.deepEqual(visits, [{ result: 'changed', visited_on: TODAY }])
})

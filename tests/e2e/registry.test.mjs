// Browser tests of the household registry pages (headless Debian Chromium, playwright-core).
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' node --test tests/e2e/
//
// The server must run on a migrated, demo-seeded database and serve web/dist at `/`.
// On failure each test leaves a full-page screenshot in /tmp/e2e-<name>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import ExcelJS from 'exceljs'
import {
  BASE,
  DESKTOP,
  PASSWORD,
  PHONE,
  clickFor,
  close,
  fieldError,
  fillMember,
  launch,
  login,
  newPage,
  randInt,
  randomCitizenId,
  randomName,
  tid,
  withPage,
  withWrongCheck,
  apiLib,
  loginToHouseholds,
  SCREENING,
} from './lib.mjs'

before(launch)
after(close)

test('village assistant registers a household, finds it, and sees server field errors', async () => {
  await withPage('registry', DESKTOP, async (page) => {
    // A village assistant starts on the month's screening list, the registry one click away.
    await loginToHouseholds(page, 'village1', SCREENING)
    await page.locator(tid('header-user-role')).getByText('村级协理员').waitFor()
    await page.locator(tid('header-user-region')).getByText('乔南村').waitFor()
    // A village assistant may not manage users nor read the audit log.
    await page.locator(tid('menu-households')).waitFor()
    assert.equal(await page.locator(tid('menu-users')).count(), 0)
    assert.equal(await page.locator(tid('menu-audit')).count(), 0)

    // ---- create, first with a wrong check character on the second member ----
    await page.locator(tid('household-new')).click()
    await page.waitForURL(/\/households\/new$/)
    await page.locator(tid('field-village_code')).getByText('乔南村').waitFor() // own village preselected

    const headId = randomCitizenId(1950, 1975)
    const spouseId = randomCitizenId(1950, 1975)
    const headName = randomName()
    const spouseName = randomName()
    await page.locator(tid('household-address')).fill(`乔官镇乔南村 E2E ${randInt(1, 9999)} 号`)
    await page.locator(tid('household-phone')).fill('13800000000')
    await page.locator(tid('household-deposits')).fill('1234.5')
    await fillMember(page, 0, { citizenId: headId, name: headName })
    await page.locator(tid('member-add')).click()
    await fillMember(page, 1, { citizenId: withWrongCheck(spouseId), name: spouseName, relation: '配偶' })
    // The client only warns about the check character; the server decides.
    await page.locator(tid('member-citizen-id-hint-1')).waitFor()

    let res = await clickFor(page, tid('household-save'), '/api/v1/households', 'POST')
    assert.equal(res.status(), 400)
    const { error } = await res.json()
    assert.equal(error.code, 'invalid_argument')
    assert.equal(error.field, 'members[1].citizen_id')
    assert.match(error.message, /[\u4e00-\u9fff]/, 'the server speaks Chinese')
    const err = fieldError(page, 'members[1].citizen_id')
    await err.waitFor()
    assert.equal((await err.innerText()).trim(), error.message)
    assert.equal(await fieldError(page, 'members[0].citizen_id').count(), 0)
    assert.match(page.url(), /\/households\/new$/)

    // Lower-case x and the right check character: accepted.
    await page.locator(tid('member-citizen-id-1')).fill(spouseId.toLowerCase())
    res = await clickFor(page, tid('household-save'), '/api/v1/households', 'POST')
    assert.equal(res.status(), 201, `create failed: ${await res.text()}`)
    const created = await res.json()
    assert.equal(created.assets.deposits_fen, 123450, 'yuan → integer fen')
    assert.equal(created.members.length, 2)
    await page.waitForURL(new RegExp(`/households/${created.id}$`))
    await page.locator(tid('household-detail-title')).getByText(headName).waitFor()
    await page.locator(tid('household-info-deposits')).getByText('1234.50').waitFor()

    // ---- find it by search ----
    await page.locator(tid('menu-households')).click()
    await page.waitForURL(/\/households(\?.*)?$/)
    await page.locator(tid('household-search')).fill(headId)
    const [searchRes] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/households' && r.url().includes('q=')),
      page.locator(tid('household-search')).press('Enter'),
    ])
    assert.equal((await searchRes.json()).total, 1)
    await page.waitForURL(/[?&]q=/)
    const rowsSel = `${tid('household-table')} .el-table__body-wrapper tr.el-table__row`
    // The table shows exactly the one household (it showed more before the search).
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, rowsSel)
    const row = page.locator(rowsSel).filter({ hasText: headName })
    await row.waitFor()
    const rowText = await row.innerText()
    assert.ok(rowText.includes(`${headId.slice(0, 6)}********${headId.slice(14)}`), `masked id in: ${rowText}`)
    assert.ok(rowText.includes('乔南村'), rowText)
    assert.ok(rowText.includes('农村'), rowText)
    await page.locator(tid('household-pagination')).getByText('共 1 条').waitFor()

    // ---- the roster of what the list shows, as an Excel file named by the server ----
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(tid('household-export')).click()])
    assert.match(download.suggestedFilename(), /^乔南村.*户籍家庭花名册\d{8}\.xlsx$/)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.readFile(await download.path())
    const lines = []
    wb.worksheets[0].eachRow((r) => lines.push(r.values.slice(1).map((v) => String(v ?? ''))))
    const households = lines.filter((r) => /^\d+$/.test(r[0]))
    assert.equal(households.length, 1, JSON.stringify(lines))
    assert.equal(households[0][3], headName)
    assert.equal(households[0][4], `${headId.slice(0, 6)}********${headId.slice(14)}`)
    await page.locator('.el-message', { hasText: '已导出' }).waitFor()

    // ---- open it ----
    await row.click()
    await page.waitForURL(new RegExp(`/households/${created.id}$`))
    await page.locator(`${tid('member-table')} .el-table__body`).getByText(spouseName).first().waitFor()

    // ---- add a member: the server's error under the citizen id item of the dialog ----
    await page.locator(tid('member-add')).click()
    const dialog = page.locator('.el-dialog', { has: page.locator(tid('member-citizen-id-dialog')) })
    await dialog.waitFor()
    const childId = randomCitizenId(2008, 2015)
    const childName = randomName()
    await fillMember(page, 'dialog', { citizenId: withWrongCheck(childId), name: childName, relation: '子女' })
    res = await clickFor(page, tid('member-dialog-save'), `/api/v1/households/${created.id}/members`)
    assert.equal(res.status(), 400)
    const memberError = (await res.json()).error
    assert.equal(memberError.field, 'citizen_id')
    const dialogErr = fieldError(dialog, 'citizen_id')
    await dialogErr.waitFor()
    assert.equal((await dialogErr.innerText()).trim(), memberError.message)

    await page.locator(tid('member-citizen-id-dialog')).fill(childId)
    res = await clickFor(page, tid('member-dialog-save'), `/api/v1/households/${created.id}/members`)
    assert.equal(res.status(), 201, `add member failed: ${await res.text()}`)
    await dialog.waitFor({ state: 'hidden' })
    await page.locator(`${tid('member-table')} .el-table__body`).getByText(childName).first().waitFor()
    await page.locator('.el-card__header', { hasText: '家庭成员（3 人）' }).waitFor()
  })
})

test('two clerks edit the same household: the later save is told to refresh', async () => {
  const a = await newPage(DESKTOP)
  const b = await newPage(DESKTOP)
  try {
    await login(a, 'town_clerk')
    await a.waitForURL(/\/households$/)
    await a.locator(`${tid('household-table')} tr.el-table__row`).first().click()
    await a.waitForURL(/\/households\/\d+$/)
    const editUrl = `${a.url()}/edit`
    await login(b, 'town_clerk')
    await b.waitForURL(/\/households$/)
    await a.goto(editUrl)
    await b.goto(editUrl)
    // Both forms are loaded (the address is required, so never empty once loaded).
    for (const p of [a, b]) {
      await p.waitForFunction((sel) => !!document.querySelector(sel)?.value, tid('household-address'))
    }
    // A town clerk picks among the town's villages; the current one is selected.
    assert.match(await a.locator(tid('field-village_code')).innerText(), /村|社区/)

    const phoneA = `139${String(randInt(0, 99999999)).padStart(8, '0')}`
    await a.locator(tid('household-phone')).fill(phoneA)
    await b.locator(tid('household-phone')).fill('13700000000')
    let res = await clickFor(a, tid('household-save'), '', 'PUT')
    assert.equal(res.status(), 200, `first save: ${await res.text()}`)
    await a.waitForURL(/\/households\/\d+$/)

    res = await clickFor(b, tid('household-save'), '', 'PUT')
    assert.equal(res.status(), 409)
    assert.equal((await res.json()).error.code, 'version_conflict')
    await b.locator(tid('form-error')).getByText('该记录已被他人修改，请刷新后重试').waitFor()

    // Refresh loads the other clerk's version; saving again succeeds.
    await b.locator(tid('form-reload')).click()
    await b.waitForFunction(
      ([sel, v]) => document.querySelector(sel)?.value === v,
      [tid('household-phone'), phoneA],
    )
    res = await clickFor(b, tid('household-save'), '', 'PUT')
    assert.equal(res.status(), 200, `save after refresh: ${await res.text()}`)
    await b.waitForURL(/\/households\/\d+$/)
    assert.deepEqual([...a.pageErrors, ...b.pageErrors], [])
  } catch (e) {
    await a.screenshot({ path: '/tmp/e2e-conflict-a.png', fullPage: true }).catch(() => {})
    await b.screenshot({ path: '/tmp/e2e-conflict-b.png', fullPage: true }).catch(() => {})
    throw e
  } finally {
    await a.context().close()
    await b.context().close()
  }
})

test('phone-sized screen: login errors in Chinese, household list and drawer menu', async () => {
  await withPage('phone', PHONE, async (page) => {
    await login(page, 'village2', 'wrong-password-1')
    const loginError = page.locator(tid('login-error'))
    await loginError.waitFor()
    assert.match(await loginError.innerText(), /用户名或密码错误/)

    await page.locator(tid('login-password')).fill(PASSWORD)
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/monitoring\/screening$/)
    await page.locator(tid('app-name')).getByText('兜底 · 社会救助综合服务平台').waitFor()

    // The side menu lives in a drawer behind the menu button.
    assert.equal(await page.locator(`.layout-aside ${tid('side-menu')}`).count(), 0)
    const drawerMenu = page.locator(`.el-drawer ${tid('side-menu')}`)
    await page.locator(tid('menu-toggle')).click()
    await drawerMenu.waitFor()
    await drawerMenu.locator(tid('menu-households')).click()
    await page.waitForURL(/\/households$/)
    await drawerMenu.waitFor({ state: 'hidden' })
    await page.locator(`${tid('household-table')} tr.el-table__row`).first().waitFor()
    await page.locator(tid('household-new')).waitFor()
    const header = await page.locator(`${tid('household-table')} .el-table__header`).innerText()
    for (const label of ['户主', '身份证号', '村（社区）', '镇街', '城乡', '人数', '更新时间']) {
      assert.ok(header.includes(label), `column ${label} in ${header}`)
    }
    // The page itself does not scroll sideways (the table may, inside its card).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`)

    await page.locator(tid('menu-toggle')).click()
    await drawerMenu.waitFor()
    await drawerMenu.locator(tid('menu-regions')).getByText('区划').waitFor()
    assert.equal(await drawerMenu.locator(tid('menu-users')).count(), 0)
    await drawerMenu.locator(tid('menu-regions')).click()
    await page.waitForURL(/\/regions$/)
    await page.locator(tid('region-tree')).getByText('龙泉院村').first().waitFor()
    await drawerMenu.waitFor({ state: 'hidden' })
  })
})

test('unknown paths fall back to the app, and without a session to the login page', async () => {
  await withPage('fallback', DESKTOP, async (page) => {
    await page.goto(`${BASE}/households/123456789`)
    await page.waitForURL(/\/login\?redirect=/)
    await page.locator(tid('login-submit')).waitFor()
    await page.locator(tid('login-username')).fill('village1')
    await page.locator(tid('login-password')).fill(PASSWORD)
    await page.locator(tid('login-submit')).click()
    // Back where we wanted to go; the household does not exist (or is outside the scope).
    await page.waitForURL(/\/households\/123456789$/)
    await page.locator(tid('household-load-error')).getByText('家庭不存在或不在您的管辖范围内').waitFor()
  })
})

test('the household list pages through the county; the page lives in the URL', async () => {
  // More than one page of ten (the demo county has fewer households when this file runs alone).
  const api = await apiLib()
  const total = (await (await api.as('admin')).get('/households?page_size=1')).body.total
  for (let n = total; n <= 12; ++n) await api.createHousehold(await api.as('village1'))
  await withPage('paging', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'admin')
    const listed = (n) => (r) => {
      const u = new URL(r.url())
      return u.pathname === '/api/v1/households' && (u.searchParams.get('page') ?? '1') === String(n) &&
        u.searchParams.get('page_size') === '10'
    }
    const [first] = await Promise.all([page.waitForResponse(listed(1)), page.goto(`${BASE}/households?size=10`)])
    const one = await first.json()
    assert.ok(one.total > 10, `more than one page of households: ${one.total}`)
    await page.locator(tid(`household-row-${one.items[0].id}`)).waitFor()
    await page.locator(tid('household-pagination')).getByText(`共 ${one.total} 条`).waitFor()

    const [second] = await Promise.all([
      page.waitForResponse(listed(2)),
      page.locator(`${tid('household-pagination')} .btn-next`).click(),
    ])
    const two = await second.json()
    assert.equal(two.page, 2)
    assert.deepEqual(one.items.map((h) => h.id).filter((id) => two.items.some((x) => x.id === id)), [], 'page 2 holds other rows')
    await page.waitForURL(/[?&]page=2\b/)
    await page.locator(tid(`household-row-${two.items[0].id}`)).waitFor()
    await page.locator(tid(`household-row-${one.items[0].id}`)).waitFor({ state: 'detached' })

    // A reload (or "back" from a household) returns to the same page.
    const [again] = await Promise.all([page.waitForResponse(listed(2)), page.reload()])
    assert.deepEqual((await again.json()).items.map((h) => h.id), two.items.map((h) => h.id))
    await page.locator(`${tid('household-pagination')} .el-pager li.is-active`).getByText('2', { exact: true }).waitFor()
  })
})

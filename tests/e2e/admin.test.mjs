// Browser tests of the county administrator's pages: regions, users, audit.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { DESKTOP, choose, clickFor, close, fieldError, launch, randInt, tid, withPage, loginToHouseholds } from './lib.mjs'

before(launch)
after(close)

test('county admin edits a town population, manages users and verifies the audit chain', async () => {
  await withPage('admin', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'admin')
    await page.locator(tid('header-user-role')).getByText('县级管理员').waitFor()
    for (const item of ['menu-households', 'menu-regions', 'menu-users', 'menu-audit']) {
      await page.locator(tid(item)).waitFor()
    }

    // ---- regions: the tree loads lazily; a town's population is editable ----
    await page.locator(tid('menu-regions')).click()
    await page.waitForURL(/\/regions$/)
    await page.locator(tid('region-node-370725')).getByText('昌乐县').click()
    await page.locator(tid('region-edit-370725107')).click()
    const population = randInt(10_000, 99_999)
    await page.locator(`${tid('region-population-input')} input`).fill(String(population))
    let res = await clickFor(page, tid('region-save'), '/api/v1/regions/370725107', 'PATCH')
    assert.equal(res.status(), 200, await res.text())
    assert.equal((await res.json()).population, population)
    await page.locator(tid('region-population-370725107')).getByText(`人口 ${population}`).waitFor()
    // Villages have no edit button.
    await page.locator(tid('region-node-370725107')).click()
    await page.locator(tid('region-node-370725107202')).waitFor()
    assert.equal(await page.locator(tid('region-edit-370725107202')).count(), 0)

    // ---- users: a taken username is reported under the username item ----
    await page.locator(tid('menu-users')).click()
    await page.waitForURL(/\/users$/)
    await page.locator(`${tid('user-table')} tr.el-table__row`).first().waitFor()
    await page.locator(tid('user-new')).click()
    await page.locator(tid('user-username')).fill('village1')
    await page.locator(tid('user-display-name')).fill('重名测试')
    await page.locator(tid('user-password')).fill('Abcdefgh12345')
    await choose(page, 'user-role', '部门联络员')
    await choose(page, 'user-department', '残联')
    res = await clickFor(page, tid('user-save'), '/api/v1/users', 'POST')
    assert.equal(res.status(), 409)
    const { error } = await res.json()
    assert.equal(error.field, 'username')
    const err = fieldError(page, 'username')
    await err.waitFor()
    assert.equal((await err.innerText()).trim(), error.message)

    const username = `e2e${Date.now().toString(36)}`
    await page.locator(tid('user-username')).fill(username)
    res = await clickFor(page, tid('user-save'), '/api/v1/users', 'POST')
    assert.equal(res.status(), 201, await res.text())
    const user = await res.json()
    assert.equal(user.role, 'department_liaison')
    assert.equal(user.department, '残联')
    assert.equal(user.region_code, '370725')
    await page.locator('.el-message', { hasText: '用户已创建' }).waitFor()

    // ---- audit: the user creation is logged; the chain verifies ----
    await page.locator(tid('menu-audit')).click()
    await page.waitForURL(/\/audit$/)
    await page.locator(`${tid('audit-table')} .el-table__body`).getByText('新增用户').first().waitFor()
    res = await clickFor(page, tid('audit-verify'), '/api/v1/audit/verify', 'GET')
    const verdict = await res.json()
    const shown = await page.locator(tid('audit-verify-result')).innerText()
    if (verdict.ok) assert.match(shown, new RegExp(`审计链完整（共 ${verdict.entries} 条）`))
    else assert.match(shown, new RegExp(`第 ${verdict.first_broken_id} 条被篡改`))
  })
})

test('auditor reads the audit log but not the registry writes', async () => {
  await withPage('auditor', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'auditor')
    await page.locator(tid('header-user-role')).getByText('审计员').waitFor()
    await page.locator(tid('menu-audit')).waitFor()
    assert.equal(await page.locator(tid('menu-users')).count(), 0)
    await page.locator(`${tid('household-table')} tr.el-table__row`).first().waitFor()
    assert.equal(await page.locator(tid('household-new')).count(), 0, 'read-only role: no 新增家庭')
    // Pages the role may not use are not reachable by URL either.
    await page.goto(page.url().replace(/\/households$/, '/users'))
    await page.waitForURL(/\/households$/)

    // Opening a household is written to the read log, which the auditor can read.
    await page.locator(`${tid('household-table')} tr.el-table__row`).first().click()
    await page.waitForURL(/\/households\/\d+$/)
    const id = page.url().match(/(\d+)$/)[1]
    await page.locator(tid('household-info')).waitFor()
    assert.equal(await page.locator(tid('household-edit')).count(), 0, 'read-only role: no 编辑家庭')
    await page.locator(tid('menu-audit')).click()
    await page.locator('.el-tabs__item', { hasText: '查阅日志' }).click()
    const reads = page.locator(`${tid('audit-reads-table')} tr.el-table__row`)
    await reads.filter({ hasText: 'auditor' }).filter({ hasText: '家庭' }).filter({ hasText: id }).first().waitFor()
    // Reading the audit log is itself in the read log (issue 17 #14).
    await reads.filter({ hasText: 'auditor' }).filter({ hasText: '审计日志' }).first().waitFor()
  })
})

test('auditor exports the audit log to Excel from the audit page (issue 17)', async () => {
  await withPage('auditor', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'auditor')
    await page.locator(tid('menu-audit')).click()
    await page.waitForURL(/\/audit$/)
    await page.locator(`${tid('audit-table')} tr.el-table__row`).first().waitFor()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(tid('audit-export')).click(),
    ])
    assert.match(download.suggestedFilename(), /^审计日志\d{8}\.xlsx$/)
    await page.locator('.el-message--success').getByText('已导出').waitFor()
  })
})

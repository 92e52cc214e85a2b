// Browser tests of identification (issue 17, #16): the TOTP step of the login page, the forced
// password change and the TOTP enrolment with its QR code on the 账号安全 page.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DESKTOP, PASSWORD, close, launch, login, tid, totpCodeFor, withPage, apiLib } from './lib.mjs'

before(launch)
after(close)

test('the admin logs in with a TOTP code: a wrong code is refused with a message, the right one enters', async () => {
  await withPage('account-totp-login', DESKTOP, async (page) => {
    await login(page, 'admin', PASSWORD, { totp: false })
    await page.locator(tid('login-totp-hint')).waitFor()
    const right = await totpCodeFor('admin')
    const wrong = String((Number(right) + 1) % 1000000).padStart(6, '0')
    await page.locator(tid('login-totp')).fill(wrong)
    await page.locator(tid('login-submit')).click()
    await page.locator(tid('login-error')).getByText('动态验证码错误').waitFor()
    await page.locator(tid('login-totp')).fill(right)
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/households$/)
    // the users page: county admin and auditor accounts are managed by the CLI only
    await page.locator(tid('menu-users')).click()
    await page.waitForURL(/\/users$/)
    await page.locator(tid('user-cli-only-auditor')).waitFor()
    assert.equal(await page.locator(tid('user-reset-auditor')).count(), 0)
  })
})

test('a county admin made by the CLI must change the password, then enrol TOTP with the QR code', async () => {
  const api = await apiLib()
  const username = api.uniq('e2eca')
  const password = api.strongPassword()
  const r = api.runBin(['user', 'add', '--db', api.DB, '--username', username, '--password', password,
    '--name', '新县管理员', '--role', 'county_admin', '--region', '370725'])
  assert.equal(r.code, 0, r.stderr + r.stdout)
  await withPage('account-forced', DESKTOP, async (page) => {
    await login(page, username, password)
    await page.waitForURL(/\/account\/security$/)
    await page.locator(tid('account-must-change')).waitFor()
    // any other page leads back here
    await page.goto(`${BASE}/households`)
    await page.waitForURL(/\/account\/security$/)
    const fresh = api.strongPassword()
    await page.locator(tid('account-old-password')).fill(password)
    await page.locator(tid('account-new-password')).fill('short1A')
    await page.locator(tid('account-confirm-password')).fill('short1A')
    await page.locator(tid('account-save-password')).click()
    await page.getByText('密码至少10位').waitFor()
    await page.locator(tid('account-new-password')).fill(fresh)
    await page.locator(tid('account-confirm-password')).fill(fresh)
    await page.locator(tid('account-save-password')).click()
    // next: the second factor
    await page.locator(tid('account-must-enrol')).waitFor()
    await page.locator(tid('account-totp-begin')).click()
    await page.locator(tid('account-totp-qr')).waitFor()
    const src = await page.locator(tid('account-totp-qr')).getAttribute('src')
    assert.match(src, /^data:image\/png;base64,/)
    const secret = (await page.locator(tid('account-totp-secret')).innerText()).trim()
    assert.match(secret, /^[A-Z2-7]{32}$/)
    await page.locator(tid('account-totp-code')).fill(api.totpCode(secret))
    await page.locator(tid('account-totp-confirm')).click()
    await page.waitForURL(/\/households$/)
    // the next login asks for the code
    await page.locator(tid('logout-button')).click()
    await page.waitForURL(/\/login/)
    await login(page, username, fresh, { totp: false })
    await page.locator(tid('login-totp')).waitFor()
    await page.locator(tid('login-totp')).fill(await totpCodeFor(username, secret))
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/households$/)
  })
})

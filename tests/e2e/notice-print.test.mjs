// Browser test of the print button of archived notices (issue 17, low): the print page is served
// with the server's CSP (`default-src 'self'`, no inline script), so the button must work without
// an inline handler. window.print is stubbed; a CSP violation fails the test. Both a notice
// rendered now and one archived with the old inline `onclick` markup are checked.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' DOUDI_DB=sqlite:/path/e2e.db \
//   DOUDI_BIN=build/doudi node --test tests/e2e/notice-print.test.mjs
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, close, launch, login, newPage, apiLib } from './lib.mjs'

const api = await apiLib()

before(launch)
after(close)

async function checkPrint(page, noticeId) {
  const violations = []
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text())
  })
  await page.goto(`${BASE}/api/v1/notices/${noticeId}/print`)
  await page.getByRole('button', { name: '打印' }).click()
  await page.waitForFunction(() => window.__printed > 0, null, { timeout: 5000 }).catch(() => {})
  const state = await page.evaluate(() => ({ printed: window.__printed ?? 0, csp: window.__csp ?? [] }))
  assert.equal(state.printed, 1, 'the button calls window.print once')
  assert.deepEqual(state.csp, [], 'no CSP violation on the page')
  assert.deepEqual(violations, [], 'no CSP message in the console')
}

test('the print button of an archived notice calls window.print without a CSP violation', async () => {
  const { app } = await api.newCase({ village: api.VILLAGE1 })
  const clerk = await api.as('town_clerk')
  await api.actOk(clerk, app.id, 'request_documents', api.wfPayload('request_documents'), 'documents_requested')
  const notice = (await api.getApp(app.id, clerk)).notices[0]
  assert.ok(notice, 'a notice')

  const page = await newPage()
  try {
    await page.addInitScript(() => {
      window.__printed = 0
      window.__csp = []
      window.print = () => { window.__printed += 1 }
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    await login(page, 'town_clerk')
    await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    await checkPrint(page, notice.id)

    // A notice archived before the fix carries an inline onclick: it still prints.
    const html = api.dbQuery(`SELECT html FROM notices WHERE id = ${Number(notice.id)}`)[0].html
    const old = html.replace(/<button[^>]*>打印<\/button>/, '<button onclick="window.print()">打印</button>')
      .replace(/<script[^>]*src="[^"]*"[^>]*><\/script>/g, '')
    assert.match(old, /onclick="window\.print\(\)"/)
    api.dbExec(`UPDATE notices SET html = ${api.sqlString(old)} WHERE id = ${Number(notice.id)}`)
    await checkPrint(page, notice.id)
  } finally {
    await page.context().close()
  }
})

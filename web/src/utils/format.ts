// Display helpers. Server timestamps are ISO 8601 with +08:00 already (Asia/Shanghai), so they
// are shown as written, without time-zone conversion in the browser.

/** "2026-03-01T09:30:12+08:00" → "2026-03-01 09:30". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}

/** "2026-03-01T09:30:12+08:00" → "2026-03-01 09:30:12". */
export function formatTimeSeconds(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}

export function prettyJson(v: unknown): string {
  if (v === null || v === undefined) return '—'
  try {
    return JSON.stringify(v, null, 2)
  } catch {
    return String(v)
  }
}

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

/** Today in Asia/Shanghai as YYYY-MM-DD (the server's calendar, whatever the browser's zone). */
export function todayIso(now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

/** Masks a citizen id as the server does in summaries: first 6 and last 4 characters. */
export function maskCitizenId(id: string): string {
  return id.length === 18 ? `${id.slice(0, 6)}********${id.slice(14)}` : id
}

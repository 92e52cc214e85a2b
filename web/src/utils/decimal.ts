// Exact decimals as text (policy multiples and ratios such as "1.5", "0.65"). Nothing here goes
// through binary floating point: the digits are moved, never multiplied.

/** "12", "1.5", "0.000001": non-negative, at most `maxFrac` fractional digits. */
export function isDecimal(s: string, maxFrac = 6): boolean {
  return new RegExp(`^\\d{1,12}(\\.\\d{1,${maxFrac}})?$`).test(s.trim())
}

/** "2.50" → "2.5", "3.0" → "3", "007" → "7". Other text is returned as it is. */
export function normalizeDecimal(s: string): string {
  const t = s.trim()
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t)
  if (!m) return t
  const int = m[1].replace(/^0+(?=\d)/, '')
  const frac = (m[2] ?? '').replace(/0+$/, '')
  return frac ? `${int}.${frac}` : int
}

/** A share as a percentage: "0.65" → "65", "0.125" → "12.5", "1" → "100". Other text as it is. */
export function ratioToPercent(s: string): string {
  const t = s.trim()
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t)
  if (!m) return t
  const frac = m[2] ?? ''
  const int = `${m[1]}${frac.slice(0, 2).padEnd(2, '0')}`.replace(/^0+(?=\d)/, '')
  const rest = frac.slice(2).replace(/0+$/, '')
  return rest ? `${int}.${rest}` : int
}

/** An integer written as text (or a safe integer number), else null. */
export function asInteger(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim())
  return null
}

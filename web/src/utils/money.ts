// Money is entered in 元 (yuan) with at most two decimals and sent as integer 分 (fen).
// Conversion works on the decimal string so that no binary float ever reaches the server.

/** Accepts "", "12", "12.3", "12.30"; at most 11 integer digits. */
export const YUAN_PATTERN = /^\d{1,11}(\.\d{1,2})?$/

export function isValidYuan(s: string): boolean {
  const t = s.trim()
  return t === '' || YUAN_PATTERN.test(t)
}

/** "12.3" → 1230; "" → 0. Throws on anything else (validate with isValidYuan first). */
export function yuanToFen(s: string): number {
  const t = s.trim()
  if (t === '') return 0
  if (!YUAN_PATTERN.test(t)) throw new Error(`not an amount in yuan: ${s}`)
  const [intPart, frac = ''] = t.split('.')
  return Number(intPart) * 100 + Number((frac + '00').slice(0, 2))
}

/** 1230 → "12.30" (integer arithmetic only). */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(Math.trunc(fen))
  const cents = abs % 100
  return `${sign}${(abs - cents) / 100}.${cents < 10 ? '0' : ''}${cents}`
}

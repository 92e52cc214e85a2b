// Client-side check of citizen ids (GB 11643-1999, MOD 11-2). Advisory only: the server decides.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const
const CHECK_CHARS = '10X98765432'

/** Trims and upper-cases (a lower-case check character `x` is accepted). */
export function normalizeCitizenId(id: string): string {
  return id.trim().toUpperCase()
}

/** Check character for the first 17 digits (which must all be digits). */
export function citizenIdCheckChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK_CHARS[sum % 11]
}

export type CitizenIdProblem =
  | { kind: 'empty' }
  | { kind: 'format' }
  | { kind: 'checksum'; expected: string }

/** null when the id looks valid; otherwise what is wrong with it. */
export function citizenIdProblem(raw: string): CitizenIdProblem | null {
  const id = normalizeCitizenId(raw)
  if (!id) return { kind: 'empty' }
  if (!/^\d{17}[\dX]$/.test(id)) return { kind: 'format' }
  const expected = citizenIdCheckChar(id.slice(0, 17))
  if (id[17] !== expected) return { kind: 'checksum', expected }
  return null
}

/**
 * The advisory line under a citizen id input: '' when the id is empty or looks valid, otherwise
 * the format message or the check character expected (`t` is vue-i18n's).
 */
export function citizenIdAdvice(t: (key: string, values?: Record<string, unknown>) => string, id: string): string {
  const p = citizenIdProblem(id)
  if (!p || p.kind === 'empty') return ''
  return p.kind === 'format' ? t('member.citizenIdFormat') : t('member.citizenIdChecksumHint', { expected: p.expected })
}

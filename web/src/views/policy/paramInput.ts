// Typing a parameter value: what the input shows, how it is checked, and the text sent to the
// server (`value` of POST /api/v1/policy/entries and of the simulation's `set`). Money is typed in
// 元 and sent as integer 分 computed on the decimal string (utils/money.ts), never as a float.
import type { ParamUnit, ParamValue } from '@/api/policy'
import { asInteger, isDecimal, normalizeDecimal } from '@/utils/decimal'
import { fenToYuan, isValidYuan, yuanToFen } from '@/utils/money'

export type InputKind = 'yuan' | 'integer' | 'decimal' | 'ratio' | 'bool' | 'text'

const INTEGER_UNITS: readonly string[] = ['count', 'months', 'days', 'working_days', 'hours', 'age_years', 'grade']

export function inputKind(unit: ParamUnit | string): InputKind {
  if (unit === 'fen') return 'yuan'
  if (INTEGER_UNITS.includes(unit)) return 'integer'
  if (unit === 'multiple') return 'decimal'
  if (unit === 'ratio') return 'ratio'
  if (unit === 'bool') return 'bool'
  return 'text'
}

/** The input's starting text for a value in force (fen → 元). */
export function inputFromValue(unit: ParamUnit | string, value: ParamValue | null | undefined): string {
  if (value === null || value === undefined) return ''
  const s = String(value).trim()
  switch (inputKind(unit)) {
    case 'yuan': {
      const fen = asInteger(s)
      return fen === null ? '' : fenToYuan(fen).replace(/\.00$/, '')
    }
    case 'decimal':
    case 'ratio':
      return normalizeDecimal(s)
    default:
      return s
  }
}

/**
 * The i18n key of what is wrong with the typed text, or '' when it can be sent. The server
 * checks again (allowed enum values, list members) and names the field if it disagrees.
 */
export function inputError(unit: ParamUnit | string, text: string): string {
  const s = text.trim()
  if (s === '') return 'policy.newValueRequired'
  switch (inputKind(unit)) {
    case 'yuan':
      return isValidYuan(s) ? '' : 'common.moneyFormat'
    case 'integer':
      return /^\d{1,12}$/.test(s) ? '' : 'policy.valueInteger'
    case 'decimal':
      return isDecimal(s) ? '' : 'policy.valueDecimal'
    case 'ratio': {
      if (!isDecimal(s)) return 'policy.valueRatio'
      const [int, frac = ''] = s.split('.')
      const ok = Number(int) === 0 || (Number(int) === 1 && /^0*$/.test(frac))
      return ok ? '' : 'policy.valueRatio'
    }
    case 'bool':
      return s === 'true' || s === 'false' ? '' : 'policy.newValueRequired'
    default:
      return ''
  }
}

/** The value as text for the server: 元 → integer 分, lists without spaces. */
export function valueFromInput(unit: ParamUnit | string, text: string): string {
  const s = text.trim()
  switch (inputKind(unit)) {
    case 'yuan':
      return String(yuanToFen(s))
    case 'decimal':
    case 'ratio':
      return normalizeDecimal(s)
    default:
      if (unit === 'list') {
        return s
          .split(/[,，、]/)
          .map((x) => x.trim())
          .filter(Boolean)
          .join(',')
      }
      return s
  }
}

// Chinese display of policy-engine data: programmes, rule ids, parameter values by unit,
// sources and citations, reason facts. Shared by the household card and the policy pages.
// Money is integer fen shown as 元 with fenToYuan (integer arithmetic only).
import { useI18n } from 'vue-i18n'
import type { ParamUnit, ParamValue } from '@/api/policy'
import { fenToYuan } from '@/utils/money'
import { asInteger, normalizeDecimal, ratioToPercent } from '@/utils/decimal'

/** The `cite` and `source` text of a value no document fixes (policy-packs.md 1.5). */
export const LOCAL_SETTING = 'local setting'

/** Identifiers safe to use in an i18n key path (no spaces, no special characters). */
const ID = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/

export function valueText(v: ParamValue | null | undefined): string {
  if (v === null || v === undefined) return ''
  return String(v)
}

/**
 * The unit of a parameter known only by its key (reasons carry no unit): `_fen` money,
 * `multiple` multiples, `share`/`rate` ratios, `months`/`days`/`hours`/`age`, `true`/`false` booleans.
 */
export function guessUnit(key: string, value: ParamValue): ParamUnit | 'text' {
  const last = key.split('.').pop() ?? key
  const s = valueText(value)
  if (typeof value === 'boolean' || s === 'true' || s === 'false') return 'bool'
  if (last.endsWith('_fen')) return 'fen'
  if (last.includes('multiple')) return 'multiple'
  if (/(^|_)(share|rate)(_|$)/.test(last)) return 'ratio'
  if (last.endsWith('_working_days')) return 'working_days'
  if (last.endsWith('_months')) return 'months'
  if (last.endsWith('_days')) return 'days'
  if (last.endsWith('_hours')) return 'hours'
  if (last.endsWith('_age') || last === 'adult_age') return 'age_years'
  if (/^[a-z_]+(,[a-z_]+)+$/.test(s)) return 'list'
  if (/^[a-z][a-z_]*$/.test(s)) return 'enum'
  return 'text'
}

/** Chinese names of the engine's identifiers: programmes, rules, sources, citations, facts. */
function usePolicyLabels() {
  const { t, te } = useI18n()

  /** t(`${group}.${id}`) when such a message exists, else `fallback` (default: the id). */
  function lookup(group: string, id: string, fallback = id): string {
    if (!id || !ID.test(id)) return fallback
    const key = `${group}.${id}`
    return te(key) ? t(key) : fallback
  }

  const programmeLabel = (p: string) => lookup('programme', p)
  const ruleLabel = (rule: string) => lookup('policyRule', rule, '')
  /** "DB-1 整户低保（差额法）" */
  const ruleTitle = (rule: string) => {
    const l = ruleLabel(rule)
    return l ? `${rule} ${l}` : rule
  }
  const approverLabel = (a: string | null | undefined) => (a ? lookup('approver', a) : t('common.none'))
  const coverageLabel = (c: string | null | undefined) => (c ? lookup('coverage', c) : t('common.none'))

  function sourceLabel(source: string): string {
    return source === LOCAL_SETTING ? t('paramSource.local_setting') : lookup('paramSource', source)
  }
  function sourceTagType(source: string): 'primary' | 'success' | 'warning' | 'info' {
    if (source === 'national') return 'primary'
    if (source === 'seed') return 'success'
    if (source === LOCAL_SETTING) return 'warning'
    return 'info'
  }
  /** A citation; the literal `local setting` reads 本地设定. */
  function citeLabel(cite: string | null | undefined): string {
    if (!cite) return t('common.none')
    return cite === LOCAL_SETTING ? t('paramSource.local_setting') : cite
  }

  return {
    lookup,
    programmeLabel,
    ruleLabel,
    ruleTitle,
    approverLabel,
    coverageLabel,
    temporaryItemLabel: (kind: string) => lookup('temporaryItem', kind),
    referralKindLabel: (kind: string) => lookup('referralKind', kind),
    referralTriggerLabel: (trigger: string) => lookup('referralTrigger', trigger),
    groupLabel: (group: string) => lookup('paramGroup', group),
    originLabel: (origin: string) => lookup('paramOrigin', origin),
    sourceLabel,
    sourceTagType,
    citeLabel,
    /** An identifier value (enum), in Chinese where known. */
    idLabel: (id: string) => lookup('paramValue', id),
    /** Chinese name of a reason fact; unknown keys as they are. */
    factLabel: (key: string) => lookup('fact', key),
  }
}

type PolicyLabels = ReturnType<typeof usePolicyLabels>

/** Parameter values as shown to users, by their unit (or by their key, for reasons' facts). */
function usePolicyValues({ idLabel, approverLabel, programmeLabel }: PolicyLabels) {
  const { t } = useI18n()

  function yuan(fen: number): string {
    return `${fenToYuan(fen)} ${t('common.yuan')}`
  }

  function boolLabel(v: ParamValue): string | null {
    if (v === true || v === 'true') return t('common.yes')
    if (v === false || v === 'false') return t('common.no')
    return null
  }

  /** A parameter value as shown to users, by its unit. */
  function formatValue(value: ParamValue | null | undefined, unit: ParamUnit | string): string {
    const s = valueText(value).trim()
    if (s === '') return t('common.none')
    switch (unit) {
      case 'fen': {
        const fen = asInteger(s)
        return fen === null ? s : yuan(fen)
      }
      case 'multiple':
        return t('paramUnit.multiple', { v: normalizeDecimal(s) })
      case 'ratio':
        return `${ratioToPercent(s)}%`
      case 'bool':
        return boolLabel(value as ParamValue) ?? s
      case 'months':
      case 'days':
      case 'working_days':
      case 'hours':
      case 'age_years':
        return t(`paramUnit.${unit}`, { v: s })
      case 'grade':
        return s === '0' ? t('paramUnit.gradeNever') : t('paramUnit.grade', { v: s })
      case 'enum':
        return idLabel(s)
      case 'list':
        return s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map(idLabel)
          .join('、') || t('common.none')
      default:
        return s
    }
  }

  function formatByKey(key: string, value: ParamValue): string {
    return formatValue(value, guessUnit(key, value))
  }

  /**
   * A reason fact: `_fen` keys as 元, booleans 是/否, `member` (a citizen id) as the member's
   * name when `nameOf` knows it, the approver in Chinese, lists joined.
   */
  function formatFact(key: string, value: unknown, nameOf?: (citizenId: string) => string): string {
    if (value === null || value === undefined || value === '') return t('common.none')
    if (key.endsWith('_fen')) {
      const fen = asInteger(value)
      if (fen !== null) return yuan(fen)
    }
    if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no')
    if (key === 'member' && typeof value === 'string' && nameOf) return nameOf(value)
    if (key === 'approver' && typeof value === 'string') return approverLabel(value)
    if (key === 'current' && typeof value === 'string') return programmeLabel(value)
    if (Array.isArray(value)) return value.map((x) => (typeof x === 'string' ? idLabel(x) : JSON.stringify(x))).join('、')
    if (typeof value === 'object') return JSON.stringify(value)
    return String(value)
  }

  return { yuan, formatValue, formatByKey, formatFact }
}

export function usePolicyFormat() {
  const labels = usePolicyLabels()
  return { ...labels, ...usePolicyValues(labels), guessUnit }
}

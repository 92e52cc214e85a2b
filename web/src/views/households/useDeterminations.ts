// 救助资格测算 on the household page: GET /api/v1/households/{id}/determinations?date= and its
// display model (programmes, covered members by name, referrals, reasons per programme).
import { computed, ref, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import type { Person } from '@/api/households'
import { isApiError } from '@/api/http'
import {
  householdDeterminations,
  PROGRAMMES,
  type Determinations,
  type Programme,
  type ProgrammeDetermination,
  type Reason,
  type TemporaryItem,
} from '@/api/policy'
import { maskCitizenId, todayIso } from '@/utils/format'

export interface ProgrammeRow {
  key: Programme
  eligible: boolean
  /** monthly cash, shown for recurring programmes when eligible */
  monthlyFen: number | null
  baseFen: number | null
  supplementFen: number | null
  coverage: string | null
  /** names of the covered members (single persons, tekun persons, illness-poverty patients) */
  coveredNames: string[]
  rule: string | null
  /** not eligible: the first rule that failed */
  failedRule: string | null
  amountFen: number | null
  approver: string | null
  items: TemporaryItem[]
}

export interface ReasonGroup {
  /** a programme, or `general` for the shared rules (hukou, assets, income) */
  key: Programme | 'general'
  reasons: Reason[]
  passed: number
}

/** The row of programme `key` in the determinations `d`; `nameOf` names a covered member. */
function programmeRow(d: Determinations, key: Programme, nameOf: (citizenId: string) => string): ProgrammeRow {
  const p = d[key] as ProgrammeDetermination & Record<string, unknown>
  const recurring = key === 'dibao' || key === 'tekun'
  const monthly = typeof p.monthly_fen === 'number' ? p.monthly_fen : null
  const row: ProgrammeRow = {
    key,
    eligible: !!p.eligible,
    monthlyFen: p.eligible && monthly !== null && (recurring || monthly > 0) ? monthly : null,
    baseFen: null,
    supplementFen: null,
    coverage: p.eligible && typeof p.coverage === 'string' ? p.coverage : null,
    coveredNames: [],
    rule: null,
    failedRule: p.eligible ? null : (p.reasons ?? []).find((r) => !r.passed)?.rule ?? null,
    amountFen: null,
    approver: null,
    items: [],
  }
  if (p.eligible && Array.isArray(p.covered) && (key !== 'dibao' || p.coverage === 'single_persons')) {
    row.coveredNames = p.covered.map(nameOf)
  }
  if (key === 'dibao') {
    const db = d.dibao
    row.rule = p.eligible && db.rule ? db.rule : null
    if (p.eligible && (db.supplement_monthly_fen ?? 0) > 0) {
      row.baseFen = db.base_monthly_fen ?? null
      row.supplementFen = db.supplement_monthly_fen ?? null
    }
  }
  if (key === 'marginal' && p.eligible && !row.coverage) row.coverage = 'whole_household'
  if (key === 'temporary') {
    const tp = d.temporary
    row.amountFen = tp.eligible ? tp.amount_fen : null
    row.approver = tp.eligible ? tp.approver : null
    row.items = tp.items ?? []
  }
  return row
}

/** The reasons per programme, then the shared ones; groups without reasons left out. */
function reasonGroupsOf(d: Determinations): ReasonGroup[] {
  const groups: ReasonGroup[] = PROGRAMMES.map((key) => ({ key, reasons: d[key].reasons ?? [], passed: 0 }))
  groups.push({ key: 'general', reasons: d.reasons ?? [], passed: 0 })
  for (const g of groups) g.passed = g.reasons.filter((r) => r.passed).length
  return groups.filter((g) => g.reasons.length > 0)
}

export function useDeterminations(householdId: Ref<string>, members: Ref<Person[]>) {
  const { t } = useI18n()
  const date = ref(todayIso())
  const data = ref<Determinations | null>(null)
  const loading = ref(false)
  const error = ref('')
  /** open panels of the 依据 collapse */
  const openReasons = ref<string[]>([])

  let seq = 0
  async function load(): Promise<void> {
    if (!householdId.value) return
    const mine = ++seq
    loading.value = true
    error.value = ''
    try {
      const res = await householdDeterminations(householdId.value, date.value || undefined)
      if (mine === seq) data.value = res
    } catch (e) {
      if (mine !== seq) return
      data.value = null
      error.value = t('determination.loadFailed', { msg: isApiError(e) ? e.message : t('error.unexpected') })
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Member name by citizen id (the registry's members); unknown ids masked. */
  function nameOf(citizenId: string): string {
    const id = citizenId.toUpperCase()
    const m = members.value.find((p) => p.citizen_id.toUpperCase() === id)
    return m ? m.name : t('determination.unknownMember', { id: maskCitizenId(citizenId) })
  }

  const rows = computed<ProgrammeRow[]>(() => {
    const d = data.value
    return d ? PROGRAMMES.map((key) => programmeRow(d, key, nameOf)) : []
  })
  const referrals = computed(() => data.value?.referrals ?? [])
  const zeroEmployment = computed(() => !!data.value?.zero_employment_household)
  const reasonGroups = computed<ReasonGroup[]>(() => (data.value ? reasonGroupsOf(data.value) : []))

  watch(date, () => void load())
  watch(householdId, () => void load(), { immediate: true })
  // Members added, edited or removed: the determination changes with them.
  watch(members, () => void load())

  return { date, data, loading, error, load, rows, referrals, zeroEmployment, reasonGroups, openReasons, nameOf }
}

// 政策模拟: change parameters on a date and re-evaluate every registered household of the county
// (POST /api/v1/policy/simulate); nothing is saved. Results by town and in total.
import { computed, reactive, ref, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { isApiError } from '@/api/http'
import { getPolicy, simulatePolicy, type PolicyParameter, type SimulationResult } from '@/api/policy'
import { usePolicyFormat } from '@/composables/usePolicyFormat'
import { todayIso } from '@/utils/format'
import { inputError, inputFromValue, inputKind, valueFromInput } from './paramInput'
import { groupParams } from './usePolicy'

export interface ChangeRow {
  /** stable id for v-for */
  id: number
  key: string
  value: string
  error: string
}

type Translate = ReturnType<typeof useI18n>['t']
type ParamOf = (key: string) => PolicyParameter | null

/** The parameters in force on the chosen date, found by key and offered grouped like the policy page. */
function useSimulationParams() {
  const { t } = useI18n()
  const fmt = usePolicyFormat()
  const date = ref(todayIso())
  const params = ref<PolicyParameter[]>([])
  const loadingParams = ref(false)
  const paramsError = ref('')

  async function loadParams(): Promise<void> {
    loadingParams.value = true
    paramsError.value = ''
    try {
      params.value = (await getPolicy(date.value || undefined)).parameters
    } catch (e) {
      paramsError.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loadingParams.value = false
    }
  }
  watch(date, () => void loadParams(), { immediate: true })

  const byKey = computed(() => new Map(params.value.map((p) => [p.key, p])))
  const paramOf: ParamOf = (key) => byKey.value.get(key) ?? null

  /** Options of the parameter select, grouped like the policy page. */
  const options = computed(() =>
    groupParams(params.value).map(([g, list]) => ({ group: g, label: fmt.groupLabel(g), params: list })),
  )

  return { date, params, loadingParams, paramsError, options, paramOf }
}

/** The changed parameters: one row each (a key and the value typed), at least one row. */
function useChangeRows(paramOf: ParamOf) {
  let nextId = 1
  const rows = reactive<ChangeRow[]>([{ id: nextId++, key: '', value: '', error: '' }])

  function addRow(): void {
    rows.push({ id: nextId++, key: '', value: '', error: '' })
  }
  function removeRow(i: number): void {
    rows.splice(i, 1)
    if (!rows.length) addRow()
  }
  /** A parameter was picked: start from its value in force. */
  function onPick(row: ChangeRow): void {
    const p = paramOf(row.key)
    row.value = p ? inputFromValue(p.unit, p.value) : ''
    row.error = ''
  }
  function kindOf(row: ChangeRow) {
    const p = paramOf(row.key)
    return p ? inputKind(p.unit) : 'text'
  }
  function unitOf(row: ChangeRow): string {
    return paramOf(row.key)?.unit ?? 'text'
  }
  /** Keys picked in other rows (each parameter once). */
  function takenBy(row: ChangeRow): Set<string> {
    return new Set(rows.filter((r) => r !== row && r.key).map((r) => r.key))
  }

  return { rows, addRow, removeRow, onPick, kindOf, unitOf, takenBy }
}

/** The rows as the request's `set` (key → value text); null when a value is wrong (its row says why). */
function changeSet(t: Translate, rows: ChangeRow[], paramOf: ParamOf): Record<string, string> | null {
  const set: Record<string, string> = {}
  let ok = true
  for (const row of rows) {
    row.error = ''
    if (!row.key) continue
    const p = paramOf(row.key)
    if (!p) continue
    const err = inputError(p.unit, row.value)
    if (err) {
      row.error = t(err)
      ok = false
      continue
    }
    set[row.key] = valueFromInput(p.unit, row.value)
  }
  return ok ? set : null
}

/** Running the simulation on the date with the rows' changes, and its result. */
function useSimulationRun(date: Ref<string>, rows: ChangeRow[], paramOf: ParamOf) {
  const { t } = useI18n()
  const running = ref(false)
  const runError = ref('')
  const result = ref<SimulationResult | null>(null)

  async function run(): Promise<void> {
    runError.value = ''
    const set = changeSet(t, rows, paramOf)
    if (!set) return
    if (!Object.keys(set).length) {
      runError.value = t('simulate.needParam')
      return
    }
    running.value = true
    try {
      result.value = await simulatePolicy({ date: date.value, set })
    } catch (e) {
      result.value = null
      if (isApiError(e)) {
        // `set.<key>` names the row; anything else is shown above the form.
        const row = e.field.startsWith('set.') ? rows.find((r) => r.key && `set.${r.key}` === e.field) : undefined
        if (row) row.error = e.message
        else runError.value = e.message
      } else {
        runError.value = t('error.unexpected')
      }
    } finally {
      running.value = false
    }
  }

  /** Towns with registered households (the chart leaves out empty towns). */
  const chartTowns = computed(() => {
    const towns = result.value?.towns ?? []
    const withHouseholds = towns.filter((x) => x.households > 0)
    return withHouseholds.length ? withHouseholds : towns
  })

  return { running, runError, result, run, chartTowns }
}

export function useSimulation() {
  const fmt = usePolicyFormat()
  const simParams = useSimulationParams()
  const { date, paramOf } = simParams
  const changes = useChangeRows(paramOf)

  function changeLabel(key: string): string {
    return paramOf(key)?.label ?? key
  }
  function changeValue(key: string, v: unknown): string {
    const p = paramOf(key)
    return p ? fmt.formatValue(v as string, p.unit) : String(v ?? '')
  }

  return {
    ...simParams,
    ...changes,
    ...useSimulationRun(date, changes.rows, paramOf),
    changeLabel,
    changeValue,
  }
}

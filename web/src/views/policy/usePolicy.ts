// 政策参数: the county's parameters in force on a date (GET /api/v1/policy), grouped and
// searchable, with history, constraint violations and the constraint list; the county admin
// adds dated `local setting` entries (POST /api/v1/policy/entries).
import { computed, reactive, ref, useTemplateRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormRules } from 'element-plus'
import { isApiError } from '@/api/http'
import {
  addPolicyEntry,
  getPolicy,
  type PolicyHistoryEntry,
  type PolicyPack,
  type PolicyParameter,
  type PolicyViolation,
} from '@/api/policy'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { LOCAL_SETTING, usePolicyFormat } from '@/composables/usePolicyFormat'
import { useSessionStore } from '@/stores/session'
import { todayIso } from '@/utils/format'
import { inputError, inputFromValue, inputKind, valueFromInput } from './paramInput'

/** Parameter groups (first key segment) in the order of the page. Unknown groups follow. */
export const GROUP_ORDER = [
  'dibao',
  'income',
  'assets',
  'marginal',
  'single_person',
  'tekun',
  'temporary',
  'reserve_fund',
  'village_emergency_fund',
  'supplement',
  'expenditure_hardship',
  'illness_poverty',
  'stats',
  'workflow',
  'review',
  'intake',
  'delegation',
  'credit',
  'monitoring',
  'referral',
  'targets',
] as const

export const SOURCES = ['national', 'seed', LOCAL_SETTING] as const

export interface ParamGroup {
  key: string
  params: PolicyParameter[]
}

export function groupOf(key: string): string {
  return key.split('.')[0] ?? key
}

/** Parameters by group (first key segment), the groups in GROUP_ORDER, each group's in their given order. */
export function groupParams(params: readonly PolicyParameter[]): [string, PolicyParameter[]][] {
  const byGroup = new Map<string, PolicyParameter[]>()
  for (const p of params) {
    const g = groupOf(p.key)
    if (!byGroup.has(g)) byGroup.set(g, [])
    byGroup.get(g)!.push(p)
  }
  const order = (g: string) => {
    const i = (GROUP_ORDER as readonly string[]).indexOf(g)
    return i < 0 ? GROUP_ORDER.length : i
  }
  return [...byGroup.entries()].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
}

type Translate = ReturnType<typeof useI18n>['t']
type HistoryState = 'inForce' | 'pending' | 'past'

/** History newest first, each marked in force / pending on the date `d`. */
function historyStates(history: readonly PolicyHistoryEntry[], d: string): (PolicyHistoryEntry & { state: HistoryState })[] {
  const list = [...history].sort((a, b) => b.from.localeCompare(a.from))
  let inForceSeen = false
  return list.map((h) => {
    let state: HistoryState = 'past'
    if (h.from > d) state = 'pending'
    else if (!inForceSeen) {
      state = 'inForce'
      inForceSeen = true
    }
    return { ...h, state }
  })
}

/** The parameters in force on the chosen date (reloaded when it changes; a late answer is dropped). */
function usePolicyPack() {
  const { t } = useI18n()
  const date = ref(todayIso())
  const pack = ref<PolicyPack | null>(null)
  const loading = ref(false)
  const error = ref('')

  let seq = 0
  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = ''
    try {
      const res = await getPolicy(date.value || undefined)
      if (mine === seq) pack.value = res
    } catch (e) {
      if (mine !== seq) return
      pack.value = null
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      if (mine === seq) loading.value = false
    }
  }
  watch(date, () => void load(), { immediate: true })

  return { date, pack, loading, error, load }
}

/** The search words and source filter, and the parameters they leave, grouped. */
function useParamSearch(pack: Ref<PolicyPack | null>) {
  const fmt = usePolicyFormat()
  const search = ref('')
  const sourceFilter = ref('')

  function haystack(p: PolicyParameter): string {
    return [p.key, p.label, p.cite, fmt.citeLabel(p.cite), p.basis, fmt.formatValue(p.value, p.unit), fmt.groupLabel(groupOf(p.key))]
      .join('\n')
      .toLowerCase()
  }

  const filtered = computed<PolicyParameter[]>(() => {
    const params = pack.value?.parameters ?? []
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean)
    return params.filter((p) => {
      if (sourceFilter.value && p.source !== sourceFilter.value) return false
      if (!words.length) return true
      const h = haystack(p)
      return words.every((w) => h.includes(w))
    })
  })

  const groups = computed<ParamGroup[]>(() =>
    groupParams(filtered.value).map(([key, params]) => ({ key, params: [...params].sort((x, y) => x.key.localeCompare(y.key)) })),
  )

  return { search, sourceFilter, filtered, groups }
}

/** The rows whose history is open, by group; `pageDate` is the date the history is marked on. */
function useHistoryRows(pageDate: () => string) {
  const expanded = reactive<Record<string, string[]>>({})
  function isExpanded(group: string, key: string): boolean {
    return (expanded[group] ?? []).includes(key)
  }
  function toggleHistory(group: string, key: string): void {
    const list = expanded[group] ?? []
    expanded[group] = list.includes(key) ? list.filter((k) => k !== key) : [...list, key]
  }
  /** The table's own expand arrow: (row, expandedRows) for expandable tables, (row, expanded) for trees. */
  function onExpandChange(group: string, row: PolicyParameter, state: PolicyParameter[] | boolean): void {
    const open = Array.isArray(state) ? state.some((r) => r.key === row.key) : state
    if (open !== isExpanded(group, row.key)) toggleHistory(group, row.key)
  }
  /** Opens a row's history (left open when it is). */
  function showHistory(key: string): void {
    const g = groupOf(key)
    if (!isExpanded(g, key)) toggleHistory(g, key)
  }
  const historyRows = (p: PolicyParameter) => historyStates(p.history, pageDate())

  return { expanded, isExpanded, toggleHistory, onExpandChange, historyRows, showHistory }
}

/** The edit form's rules: the value checked by the parameter's unit, a date and a note required. */
function policyEditRules(t: Translate, param: PolicyParameter | null): FormRules {
  return {
    value: [
      {
        validator: (_r: unknown, v: string, cb: (e?: Error) => void) => {
          const key = param ? inputError(param.unit, v ?? '') : ''
          cb(key ? new Error(t(key)) : undefined)
        },
        trigger: 'blur',
      },
    ],
    from: [{ required: true, message: t('policy.effectiveFromRequired'), trigger: 'change' }],
    note: [{ required: true, whitespace: true, message: t('policy.editNoteRequired'), trigger: 'blur' }],
  }
}

/** Dates before today cannot be chosen (the picker works in the browser's local days). */
function disabledFrom(d: Date): boolean {
  const local = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  return local < todayIso()
}

/** The violations on `from`, when there are any (the check is only informative: a failure is none). */
async function violationsOn(from: string): Promise<{ from: string; violations: PolicyViolation[] } | null> {
  try {
    const then = await getPolicy(from)
    if (then.violations.length) return { from, violations: then.violations }
  } catch {
    // The page itself is up to date; the extra check is only informative.
  }
  return null
}

/**
 * The county admin's edit dialog: a dated `local setting` entry for one parameter. After saving,
 * the page reloads (`saved`) with the row's history open (`showHistory`).
 */
function useEditDialog(pageDate: () => string, saved: () => Promise<void>, showHistory: (key: string) => void) {
  const { t } = useI18n()
  const editFormRef = useTemplateRef<FormInstance>('editFormRef')
  const edit = reactive({
    visible: false,
    saving: false,
    param: null as PolicyParameter | null,
    /** the 409 failed_precondition message (the constraint the value breaks) */
    constraintError: '',
  })
  const editForm = reactive({ value: '', from: '', basis: '', note: '' })
  const editErrors = useFieldErrors((f) => ['value', 'from', 'basis', 'note'].includes(f))
  /** After an edit: the violations on its `from` date, when that differs from the page's date. */
  const afterEdit = ref<{ from: string; violations: PolicyViolation[] } | null>(null)
  const editKind = computed(() => (edit.param ? inputKind(edit.param.unit) : 'text'))
  const editRules = computed(() => policyEditRules(t, edit.param))

  function openEdit(p: PolicyParameter): void {
    edit.param = p
    edit.constraintError = ''
    editErrors.clear()
    Object.assign(editForm, { value: inputFromValue(p.unit, p.value), from: todayIso(), basis: '', note: '' })
    edit.visible = true
    editFormRef.value?.clearValidate()
  }

  async function saveEdit(): Promise<void> {
    const p = edit.param
    if (!p) return
    edit.constraintError = ''
    editErrors.clear()
    const valid = await editFormRef.value?.validate().catch(() => false)
    if (!valid) return
    edit.saving = true
    try {
      const entry = await addPolicyEntry({
        key: p.key,
        from: editForm.from,
        value: valueFromInput(p.unit, editForm.value),
        basis: editForm.basis.trim(),
        note: editForm.note.trim(),
      })
      edit.visible = false
      const from = editForm.from
      ElMessage.success(t('policy.saved', { from }))
      await saved()
      // Keep the edited row's history open so that the new entry shows.
      showHistory(entry.key)
      afterEdit.value = null
      if (from !== pageDate()) afterEdit.value = await violationsOn(from)
    } catch (e) {
      if (isApiError(e) && e.code === 'failed_precondition') edit.constraintError = e.message
      else editErrors.show(e)
    } finally {
      edit.saving = false
    }
  }

  return { edit, editForm, editErrors, editRules, editKind, disabledFrom, openEdit, saveEdit, afterEdit }
}

export function usePolicy() {
  const session = useSessionStore()
  const canEdit = computed(() => session.can('policy.edit'))
  const policyPack = usePolicyPack()
  const { date, pack, load } = policyPack
  const pageDate = () => pack.value?.date ?? date.value
  const { showHistory, ...history } = useHistoryRows(pageDate)

  return {
    ...policyPack,
    canEdit,
    ...useParamSearch(pack),
    ...history,
    violations: computed<PolicyViolation[]>(() => pack.value?.violations ?? []),
    constraints: computed(() => pack.value?.constraints ?? []),
    ...useEditDialog(pageDate, load, showHistory),
  }
}

// Holiday calendar (State Council holidays and make-up working days, 调休): deadlines count
// working days on it. The county admin edits; everyone else reads. A helper computes a due date.
import { computed, onMounted, reactive, ref, useTemplateRef, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox, type FormInstance, type FormRules } from 'element-plus'
import { deleteHoliday, listHolidays, setHoliday, workingDays, type DayKind, type Holiday } from '@/api/calendar'
import { isApiError } from '@/api/http'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { submitForm } from '@/composables/submitForm'
import { useSessionStore } from '@/stores/session'
import { todayIso } from '@/utils/format'

/** 0 = Sunday … 6 = Saturday, computed on the date alone (no time zone involved). */
export function weekday(day: string): number {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay()
}

/** The add/edit dialog of one day; `saved` shows the year of the day saved. */
function useHolidayDialog(saved: (day: string) => Promise<void>) {
  const { t } = useI18n()
  const formRef = useTemplateRef<FormInstance>('dayForm')
  const dialog = reactive({ visible: false, editing: false, day: '', kind: 'holiday' as DayKind, name: '', saving: false })
  const errors = useFieldErrors((f) => ['day', 'kind', 'name'].includes(f))
  const rules = computed<FormRules>(() => ({
    day: [{ required: true, message: t('holidays.dayRequired'), trigger: 'change' }],
    name: [{ required: true, whitespace: true, message: t('holidays.nameRequired'), trigger: 'blur' }],
  }))
  function openAdd(): void {
    Object.assign(dialog, { visible: true, editing: false, day: '', kind: 'holiday', name: '', saving: false })
    errors.clear()
    formRef.value?.clearValidate()
  }
  function openEdit(h: Holiday): void {
    Object.assign(dialog, { visible: true, editing: true, day: h.day, kind: h.kind, name: h.name, saving: false })
    errors.clear()
    formRef.value?.clearValidate()
  }
  async function save(): Promise<void> {
    await submitForm({
      form: formRef.value,
      errors: errors,
      busy: (on) => (dialog.saving = on),
      save: async () => {
        await setHoliday(dialog.day, dialog.kind, dialog.name.trim())
        dialog.visible = false
        ElMessage.success(t('common.saved'))
        await saved(dialog.day)
      },
    })
  }
  return { dialog, rules, errors, openAdd, openEdit, save }
}

/** The due-date helper: a number of working days from a date. */
function useDueDate() {
  const { t } = useI18n()
  const calc = reactive({ from: todayIso(), days: 10, due: '', loading: false, error: '' })
  async function compute(): Promise<void> {
    calc.error = ''
    calc.due = ''
    if (!calc.from) return
    calc.loading = true
    try {
      calc.due = (await workingDays(calc.from, calc.days)).due
    } catch (e) {
      calc.error = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      calc.loading = false
    }
  }

  return { calc, compute }
}

export function useCalendar() {
  const { t } = useI18n()
  const session = useSessionStore()
  const canEdit = computed(() => session.can('calendar.edit'))

  const year = ref(todayIso().slice(0, 4))
  const rows = ref<Holiday[]>([])
  const loading = ref(false)
  const error = ref('')
  const counts = computed(() => ({
    holidays: rows.value.filter((r) => r.kind === 'holiday').length,
    workdays: rows.value.filter((r) => r.kind === 'workday').length,
  }))

  async function load(): Promise<void> {
    if (!/^\d{4}$/.test(year.value)) return
    loading.value = true
    error.value = ''
    try {
      rows.value = await listHolidays(year.value)
    } catch (e) {
      rows.value = []
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }
  watch(year, () => void load())

  const holidayDialog = useHolidayDialog(async (day) => {
    if (day.slice(0, 4) !== year.value) year.value = day.slice(0, 4)
    else await load()
  })
  async function remove(h: Holiday): Promise<void> {
    const ok = await ElMessageBox.confirm(t('holidays.removeConfirm', { day: h.day, name: h.name }), t('common.remove'), {
      type: 'warning',
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
    }).catch(() => false)
    if (!ok) return
    try {
      await deleteHoliday(h.day)
      ElMessage.success(t('holidays.removed'))
      await load()
    } catch (e) {
      ElMessage.error(isApiError(e) ? e.message : t('error.unexpected'))
    }
  }

  onMounted(() => void load())

  return { canEdit, year, rows, loading, error, counts, load, ...holidayDialog, remove, ...useDueDate() }
}

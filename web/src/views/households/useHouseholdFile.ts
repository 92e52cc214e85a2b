// 一户一案: everything the workflow recorded for one household (docs/api.md, GET
// /api/v1/households/{id}/file), and dynamic management of its enrollments (docs/workflow.md
// § Dynamic management: review, change_amount, suspend, resume, terminate).
import { computed, reactive, ref, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  actOnEnrollment,
  getHouseholdFile,
  type EnrollmentAction,
  type EnrollmentActionPayload,
  type FileEnrollment,
  type HouseholdFile,
} from '@/api/enrollments'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { isValidYuan, yuanToFen } from '@/utils/money'

/** Which actions the enrollment's status allows (the server checks the same). */
export function actionsFor(status: string): EnrollmentAction[] {
  if (status === 'active') return ['review', 'change_amount', 'suspend', 'terminate']
  if (status === 'suspended') return ['resume', 'terminate']
  return []
}

const FIELD = /^(monthly_fen|reason|gradual_exit)$/

type Translate = ReturnType<typeof useI18n>['t']
type ManageForm = { amount: string; reason: string; stable: boolean; gradualExit: boolean }

/** What the form of `action` shows and asks for. */
function manageFields(action: EnrollmentAction, enrollment: FileEnrollment | null) {
  return {
    needsAmount: action === 'change_amount',
    showsAmount: action === 'review' || action === 'change_amount',
    showsReason: action !== 'resume',
    canGradual: action === 'terminate' && enrollment?.program === 'dibao',
  }
}

/** Client-side checks of the form of `action`: the message of each field that fails. */
function manageProblems(t: Translate, action: EnrollmentAction, form: ManageForm): Record<string, string> {
  const problems: Record<string, string> = {}
  const { showsAmount, needsAmount } = manageFields(action, null)
  const amount = form.amount.trim()
  if (showsAmount && amount !== '' && !isValidYuan(amount)) problems.monthly_fen = t('common.moneyFormat')
  if (needsAmount && amount === '') problems.monthly_fen = t('householdFile.manage.amountRequired')
  const reasonRequired =
    action === 'change_amount' || action === 'suspend' || action === 'terminate' || (action === 'review' && amount !== '')
  if (reasonRequired && !form.reason.trim()) problems.reason = t('householdFile.manage.reasonRequired')
  return problems
}

/** What the form of `action` sends. */
function managePayload(action: EnrollmentAction, enrollment: FileEnrollment, form: ManageForm): EnrollmentActionPayload {
  const { showsAmount, showsReason, canGradual } = manageFields(action, enrollment)
  const payload: EnrollmentActionPayload = {}
  if (showsAmount && form.amount.trim() !== '') payload.monthly_fen = yuanToFen(form.amount)
  if (showsReason && form.reason.trim()) payload.reason = form.reason.trim()
  if (action === 'review') payload.stable = form.stable
  if (canGradual && form.gradualExit) payload.gradual_exit = true
  return payload
}

/** The dynamic management dialog of one enrollment; `done` reloads the file. */
function useManageDialog(done: () => Promise<void>) {
  const { t } = useI18n()
  const dialog = reactive({
    visible: false,
    saving: false,
    action: 'review' as EnrollmentAction,
    enrollment: null as FileEnrollment | null,
  })
  const form = reactive<ManageForm>({ amount: '', reason: '', stable: false, gradualExit: false })
  const errors = useFieldErrors((f) => FIELD.test(f))

  function open(enrollment: FileEnrollment, action: EnrollmentAction): void {
    errors.clear()
    dialog.enrollment = enrollment
    dialog.action = action
    form.amount = ''
    form.reason = ''
    form.stable = false
    form.gradualExit = false
    dialog.visible = true
  }

  const fields = computed(() => manageFields(dialog.action, dialog.enrollment))

  /** Client-side checks; the server's messages replace them on submit. */
  function validate(): boolean {
    errors.clear()
    const problems = manageProblems(t, dialog.action, form)
    Object.assign(errors.fields, problems)
    return Object.keys(problems).length === 0
  }

  async function submit(): Promise<void> {
    const e = dialog.enrollment
    if (!e || !validate()) return
    const payload = managePayload(dialog.action, e, form)
    dialog.saving = true
    try {
      await actOnEnrollment(e.id, dialog.action, e.version, payload)
      dialog.visible = false
      ElMessage.success(t('householdFile.manage.done'))
      await done()
    } catch (err) {
      errors.show(err)
    } finally {
      dialog.saving = false
    }
  }

  return {
    dialog,
    form,
    errors,
    open,
    submit,
    showsAmount: computed(() => fields.value.showsAmount),
    needsAmount: computed(() => fields.value.needsAmount),
    showsReason: computed(() => fields.value.showsReason),
    canGradual: computed(() => fields.value.canGradual),
  }
}

export function useHouseholdFile(householdId: Ref<string>) {
  const { t } = useI18n()
  const session = useSessionStore()
  const canManage = computed(() => session.can('enrollments.manage'))

  const file = ref<HouseholdFile | null>(null)
  const loading = ref(false)
  const error = ref('')

  async function load(): Promise<void> {
    if (!householdId.value) return
    loading.value = true
    error.value = ''
    try {
      file.value = await getHouseholdFile(householdId.value)
    } catch (e) {
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }
  watch(householdId, () => void load(), { immediate: true })

  const isEmpty = computed(
    () =>
      !!file.value &&
      file.value.applications.length === 0 &&
      file.value.enrollments.length === 0 &&
      file.value.notices.length === 0 &&
      file.value.visits.length === 0 &&
      file.value.determinations.length === 0,
  )

  return { file, loading, error, load, isEmpty, canManage, ...useManageDialog(load) }
}

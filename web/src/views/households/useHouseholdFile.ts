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

  // ------------------------------------------------------------ dynamic management dialog
  const dialog = reactive({
    visible: false,
    saving: false,
    action: 'review' as EnrollmentAction,
    enrollment: null as FileEnrollment | null,
  })
  const form = reactive({ amount: '', reason: '', stable: false, gradualExit: false })
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

  const needsAmount = computed(() => dialog.action === 'change_amount')
  const showsAmount = computed(() => dialog.action === 'review' || dialog.action === 'change_amount')
  const showsReason = computed(() => dialog.action !== 'resume')
  const canGradual = computed(() => dialog.action === 'terminate' && dialog.enrollment?.program === 'dibao')

  /** Client-side checks; the server's messages replace them on submit. */
  function validate(): boolean {
    errors.clear()
    let ok = true
    const amount = form.amount.trim()
    if (showsAmount.value && amount !== '' && !isValidYuan(amount)) {
      errors.fields.monthly_fen = t('common.moneyFormat')
      ok = false
    }
    if (needsAmount.value && amount === '') {
      errors.fields.monthly_fen = t('householdFile.manage.amountRequired')
      ok = false
    }
    const reasonRequired =
      dialog.action === 'change_amount' || dialog.action === 'suspend' || dialog.action === 'terminate' || (dialog.action === 'review' && amount !== '')
    if (reasonRequired && !form.reason.trim()) {
      errors.fields.reason = t('householdFile.manage.reasonRequired')
      ok = false
    }
    return ok
  }

  async function submit(): Promise<void> {
    const e = dialog.enrollment
    if (!e || !validate()) return
    const payload: EnrollmentActionPayload = {}
    if (showsAmount.value && form.amount.trim() !== '') payload.monthly_fen = yuanToFen(form.amount)
    if (showsReason.value && form.reason.trim()) payload.reason = form.reason.trim()
    if (dialog.action === 'review') payload.stable = form.stable
    if (canGradual.value && form.gradualExit) payload.gradual_exit = true
    dialog.saving = true
    try {
      await actOnEnrollment(e.id, dialog.action, e.version, payload)
      dialog.visible = false
      ElMessage.success(t('householdFile.manage.done'))
      await load()
    } catch (err) {
      errors.show(err)
    } finally {
      dialog.saving = false
    }
  }

  return {
    file,
    loading,
    error,
    load,
    isEmpty,
    canManage,
    dialog,
    form,
    errors,
    open,
    submit,
    showsAmount,
    needsAmount,
    showsReason,
    canGradual,
  }
}

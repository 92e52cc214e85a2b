// The action panel of the case page: one form per workflow action, sent with the version the
// page read. Server errors land under the form item their `field` names, or above the form:
// 409 invalid_transition / failed_precondition with the server's Chinese message, and
// version_conflict as “该记录已被他人修改，请刷新后重试” with a refresh button.
import { computed, reactive, ref, useTemplateRef, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormItemRule, type FormRules } from 'element-plus'
import { actOnApplication, type ActionPayload, type Application, type CaseAction } from '@/api/applications'
import { isApiError } from '@/api/http'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { todayIso } from '@/utils/format'

/** Server fields that have a form item (indexed ones like staff[1] go under their list). */
const FIELDS = [
  'household_id',
  'authorization',
  'commitment',
  'missing_items',
  'visited_on',
  'staff',
  'findings',
  'date',
  'recommend',
  'opinion',
  'escalate',
  'content',
  'by',
  'objection_id',
  'answer',
  'reasons',
  'reason',
]
const baseField = (f: string) => f.replace(/\[\d+\]$/, '')

/** Lines of a textarea, trimmed, without empty ones. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean)
}

export const STAFF_MIN = 2

function emptyForm() {
  return {
    household_id: null as number | null,
    authorization: false,
    commitment: false,
    missing_items: '',
    accept_missing: '',
    visited_on: todayIso(),
    staff: ['', ''] as string[],
    findings: '',
    verification_findings: '',
    recommend: 'approve' as 'approve' | 'refuse',
    opinion: '',
    escalate: false,
    content: '',
    by: '',
    objection_id: null as number | null,
    answer: '',
    approve_opinion: '',
    reasons: '',
    reason: '',
  }
}

export function useCaseActions(app: Ref<Application | null>, onDone: (a: Application) => void, reload: () => Promise<void>) {
  const { t } = useI18n()
  const visible = ref(false)
  const saving = ref(false)
  const action = ref<CaseAction | null>(null)
  const form = reactive(emptyForm())
  const formRef = useTemplateRef<FormInstance>('actionForm')
  const errors = useFieldErrors((f) => FIELDS.includes(baseField(f)))
  // The record changed, or this very action may have been saved: reload rather than resend.
  const needsRefresh = computed(
    () => errors.mayHaveLanded.value || ['version_conflict', 'invalid_transition'].includes(errors.generalCode.value),
  )

  /** The error of a field or of any of its list items (`staff[1]` shows under `staff`). */
  function errorOf(field: string): string {
    if (errors.errorOf(field)) return errors.errorOf(field)
    for (const [k, v] of Object.entries(errors.fields)) if (v && baseField(k) === field) return v
    return ''
  }

  const unanswered = computed(() => (app.value?.objections ?? []).filter((o) => o.answer === null))

  const checked =
    (key: string): FormItemRule['validator'] =>
    (_r, v: boolean, cb) =>
      v ? cb() : cb(new Error(t(key)))
  const required = (key: string): FormItemRule => ({ required: true, whitespace: true, message: t(key), trigger: 'blur' })
  const rules = computed<FormRules>(() => {
    switch (action.value) {
      case 'link_household':
        return { household_id: [{ required: true, message: t('cases.create.householdRequired'), trigger: 'change' }] }
      case 'record_signatures':
        return {
          authorization: [{ required: true, validator: checked('cases.create.authorizationRequired'), trigger: 'change' }],
          commitment: [{ required: true, validator: checked('cases.create.commitmentRequired'), trigger: 'change' }],
        }
      case 'request_documents':
        return { missing_items: [required('cases.form.missingItemsRequired')] }
      case 'record_visit':
        return {
          visited_on: [{ required: true, message: t('cases.form.visitedOnRequired'), trigger: 'change' }],
          staff: [
            {
              required: true,
              validator: (_r, v: string[], cb) =>
                v.filter((s) => s.trim()).length >= STAFF_MIN ? cb() : cb(new Error(t('cases.form.staffMin', { n: STAFF_MIN }))),
              trigger: 'blur',
            },
          ],
          findings: [required('cases.form.findingsRequired')],
        }
      case 'town_opinion':
        return { opinion: [required('cases.form.opinionRequired')] }
      case 'record_objection':
        return { content: [required('cases.form.objectionContentRequired')] }
      case 'answer_objection':
        return {
          objection_id: [{ required: true, message: t('cases.form.objectionRequired'), trigger: 'change' }],
          answer: [required('cases.form.answerRequired')],
        }
      case 'refuse':
        return { reasons: [required('cases.form.reasonsRequired')] }
      case 'extend':
        return { reason: [required('cases.form.extendReasonRequired')] }
      default:
        return {}
    }
  })

  function open(a: CaseAction, objectionId?: number): void {
    Object.assign(form, emptyForm())
    if (a === 'answer_objection') form.objection_id = objectionId ?? unanswered.value[0]?.id ?? null
    action.value = a
    errors.clear()
    visible.value = true
    formRef.value?.clearValidate()
  }

  function addStaff(): void {
    form.staff.push('')
  }
  function removeStaff(i: number): void {
    if (form.staff.length > STAFF_MIN) form.staff.splice(i, 1)
  }

  function payload(a: CaseAction): ActionPayload {
    switch (a) {
      case 'link_household':
        return { household_id: form.household_id ?? undefined }
      case 'record_signatures':
        return { authorization: form.authorization, commitment: form.commitment }
      case 'request_documents':
        return { missing_items: lines(form.missing_items) }
      case 'accept': {
        const items = lines(form.accept_missing)
        return items.length ? { missing_items: items } : {}
      }
      case 'record_visit':
        return {
          visited_on: form.visited_on,
          staff: form.staff.map((s) => s.trim()).filter(Boolean),
          findings: form.findings.trim(),
        }
      case 'record_verification':
        return { findings: form.verification_findings.trim() }
      case 'town_opinion':
        return { recommend: form.recommend, opinion: form.opinion.trim(), escalate: form.escalate }
      case 'record_objection':
        return { content: form.content.trim(), by: form.by.trim() }
      case 'answer_objection':
        return { objection_id: form.objection_id ?? undefined, answer: form.answer.trim() }
      case 'approve':
        return { opinion: form.approve_opinion.trim() }
      case 'refuse':
        return { reasons: form.reasons.trim() }
      case 'extend':
        return { reason: form.reason.trim() }
      case 'withdraw':
        return { reason: form.reason.trim() }
      default:
        return {}
    }
  }

  async function submit(): Promise<void> {
    const a = action.value
    const current = app.value
    if (!a || !current) return
    errors.clear()
    const ok = await formRef.value?.validate().catch(() => false)
    if (ok === false) return
    saving.value = true
    try {
      const updated = await actOnApplication(current.id, a, current.version, payload(a))
      visible.value = false
      ElMessage.success(t('cases.form.done', { action: t(`caseAction.${a}`) }))
      onDone(updated)
    } catch (e) {
      errors.show(e)
      if (isApiError(e) && e.status === 404) errors.general.value = t('cases.detail.notFound')
    } finally {
      saving.value = false
    }
  }

  /** After a 409: reload the case; the panel then offers what is possible now. */
  async function refresh(): Promise<void> {
    visible.value = false
    errors.clear()
    await reload()
  }

  return {
    visible,
    saving,
    action,
    form,
    rules,
    errors,
    errorOf,
    needsRefresh,
    unanswered,
    open,
    addStaff,
    removeStaff,
    submit,
    refresh,
  }
}

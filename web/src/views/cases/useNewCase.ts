// "新建申请": a town window or village assistant registers a five-in-one application for a
// registered household, with the signed authorization and integrity commitment.
import { computed, reactive, ref, useTemplateRef } from 'vue'
import { useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormRules } from 'element-plus'
import { createApplication, PROGRAMS, STAFF_CHANNELS, type Program } from '@/api/applications'
import { isApiError, newIdempotencyKey } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { signatureRules, useApplicantChoice } from './useApplicantChoice'

type StaffChannel = (typeof STAFF_CHANNELS)[number]

const FIELDS = ['household_id', 'applicant_person_id', 'programs', 'channel', 'note', 'authorization', 'commitment']

export function useNewCase() {
  const { t } = useI18n()
  const router = useRouter()
  const session = useSessionStore()

  const visible = ref(false)
  const saving = ref(false)
  const formRef = useTemplateRef<FormInstance>('newCaseForm')
  const defaultChannel = (): StaffChannel => (session.user?.role === 'village_assistant' ? 'assistant' : 'window')
  const form = reactive({
    household_id: null as number | null,
    applicant_person_id: null as number | null,
    programs: [...PROGRAMS] as Program[],
    channel: defaultChannel(),
    note: '',
    authorization: false,
    commitment: false,
  })
  const errors = useFieldErrors((f) => FIELDS.includes(f) || /^programs\[\d+\]$/.test(f), {})
  const { members, loadingMembers, onHouseholdPicked } = useApplicantChoice(form, errors)

  const rules = computed<FormRules>(() => ({
    household_id: [{ required: true, message: t('cases.create.householdRequired'), trigger: 'change' }],
    programs: [{ type: 'array', required: true, min: 1, message: t('cases.create.programsRequired'), trigger: 'change' }],
    ...signatureRules(t),
  }))

  // One Idempotency-Key per opened form: a resubmit of it cannot file the application twice.
  let formKey = newIdempotencyKey()
  function open(): void {
    formKey = newIdempotencyKey()
    form.household_id = null
    form.applicant_person_id = null
    form.programs = [...PROGRAMS]
    form.channel = defaultChannel()
    form.note = ''
    form.authorization = false
    form.commitment = false
    members.value = []
    errors.clear()
    visible.value = true
    formRef.value?.clearValidate()
  }

  async function submit(): Promise<void> {
    errors.clear()
    const ok = await formRef.value?.validate().catch(() => false)
    if (!ok || !form.household_id) return
    saving.value = true
    try {
      const created = await createApplication({
        household_id: form.household_id,
        applicant_person_id: form.applicant_person_id ?? undefined,
        programs: form.programs,
        channel: form.channel,
        note: form.note.trim() || undefined,
        authorization: form.authorization,
        commitment: form.commitment,
      }, formKey)
      visible.value = false
      ElMessage.success(t('cases.create.created', { caseNo: created.case_no }))
      await router.push({ name: 'case-detail', params: { id: created.id } })
    } catch (e) {
      if (isApiError(e) && (e.code === 'committed_unread' || e.code === 'outcome_unknown')) {
        // Probably registered: a second submit could file the application twice. (A write
        // whose answer never came may not have arrived at all: the dialog keeps what was typed
        // and its message says to look before sending again.)
        visible.value = false
        ElMessage.warning({ message: (e as Error).message, duration: 10000 })
        return
      }
      errors.show(e)
    } finally {
      saving.value = false
    }
  }

  return { visible, saving, form, rules, members, loadingMembers, errors, open, onHouseholdPicked, submit }
}

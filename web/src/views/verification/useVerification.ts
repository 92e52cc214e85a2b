// 异地协查: the cross-region verification requests of the user's county, in two tabs — sent
// (an application here whose applicant's hukou is in another county) and received (to this
// county). Town window staff send one by registering a residence-permit application with the
// hukou county; the county staff of the hukou county answer.
import { computed, reactive, ref, useTemplateRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormRules } from 'element-plus'
import { createApplication, PROGRAMS } from '@/api/applications'
import {
  answerVerificationRequest,
  listVerificationRequests,
  type VerificationDirection,
  type VerificationRequest,
} from '@/api/verification'
import { newIdempotencyKey, type Page } from '@/api/http'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { signatureRules, useApplicantChoice } from '@/views/cases/useApplicantChoice'
import { usePagedList } from '@/composables/usePagedList'
import { useSessionStore } from '@/stores/session'

const CREATE_FIELDS = ['household_id', 'applicant_person_id', 'hukou_county', 'verification_subject', 'authorization', 'commitment']

type Translate = ReturnType<typeof useI18n>['t']

/** The send form's rules; the hukou county must be another county than `ownCounty`. */
function sendRules(t: Translate, ownCounty: string): FormRules {
  return {
    hukou_county: [
      {
        required: true,
        validator: (_r, v: string, cb) => {
          const code = (v ?? '').trim()
          if (!/^\d{6}$/.test(code)) return cb(new Error(t('verification.hukouCountyFormat')))
          if (code === ownCounty) return cb(new Error(t('verification.hukouCountyOwn')))
          cb()
        },
        trigger: 'blur',
      },
    ],
    household_id: [{ required: true, message: t('cases.create.householdRequired'), trigger: 'change' }],
    ...signatureRules(t),
  }
}

/**
 * The send dialog: a residence-permit application that asks the hukou county (not `ownCounty`)
 * to verify; `showOutgoing` then shows the requests sent.
 */
function useSendRequest(ownCounty: Ref<string>, showOutgoing: () => void) {
  const { t } = useI18n()
  const createRef = useTemplateRef<FormInstance>('createForm')
  const create = reactive({
    visible: false,
    saving: false,
    household_id: null as number | null,
    applicant_person_id: null as number | null,
    hukou_county: '',
    note: '',
    authorization: false,
    commitment: false,
  })
  const createErrors = useFieldErrors((f) => CREATE_FIELDS.includes(f))
  const { members, loadingMembers, onHouseholdPicked } = useApplicantChoice(create, createErrors)

  const createRules = computed<FormRules>(() => sendRules(t, ownCounty.value))

  // One Idempotency-Key per opened form: a resubmit of it cannot file the application twice.
  let createKey = newIdempotencyKey()
  function openCreate(): void {
    createKey = newIdempotencyKey()
    Object.assign(create, {
      visible: true,
      saving: false,
      household_id: null,
      applicant_person_id: null,
      hukou_county: '',
      note: '',
      authorization: false,
      commitment: false,
    })
    members.value = []
    createErrors.clear()
    createRef.value?.clearValidate()
  }

  async function submitCreate(): Promise<void> {
    createErrors.clear()
    const ok = await createRef.value?.validate().catch(() => false)
    if (!ok || !create.household_id) return
    create.saving = true
    try {
      const county = create.hukou_county.trim()
      const app = await createApplication({
        household_id: create.household_id,
        applicant_person_id: create.applicant_person_id ?? undefined,
        channel: 'window',
        programs: [...PROGRAMS],
        hukou_county: county,
        verification_subject: create.note.trim() || undefined,
        authorization: create.authorization,
        commitment: create.commitment,
      }, createKey)
      create.visible = false
      ElMessage.success(t('verification.created', { caseNo: app.case_no, county }))
      showOutgoing()
    } catch (e) {
      createErrors.show(e)
    } finally {
      create.saving = false
    }
  }

  return {
    create,
    createRules,
    createErrors,
    members,
    loadingMembers,
    openCreate,
    onHouseholdPicked,
    submitCreate,
  }
}

/** The answer dialog of a request received; `list` is reloaded after it, answered or not. */
function useAnswerRequest(list: { load: () => Promise<void> }) {
  const { t } = useI18n()
  const answerRef = useTemplateRef<FormInstance>('answerForm')
  const answering = reactive({ visible: false, saving: false, row: null as VerificationRequest | null, answer: '' })
  const answerErrors = useFieldErrors((f) => f === 'answer')
  const answerRules = computed<FormRules>(() => ({
    answer: [{ required: true, whitespace: true, message: t('verification.answerRequired'), trigger: 'blur' }],
  }))
  function openAnswer(row: VerificationRequest): void {
    Object.assign(answering, { visible: true, saving: false, row, answer: '' })
    answerErrors.clear()
    answerRef.value?.clearValidate()
  }
  async function submitAnswer(): Promise<void> {
    const row = answering.row
    if (!row) return
    answerErrors.clear()
    const ok = await answerRef.value?.validate().catch(() => false)
    if (!ok) return
    answering.saving = true
    try {
      await answerVerificationRequest(row.id, answering.answer.trim())
      answering.visible = false
      ElMessage.success(t('verification.answered', { name: row.applicant_name }))
      await list.load()
    } catch (e) {
      answerErrors.show(e)
      // Answered meanwhile (or no longer open): show the list as it is now.
      void list.load()
    } finally {
      answering.saving = false
    }
  }

  return { answering, answerRules, answerErrors, openAnswer, submitAnswer }
}

export function useVerification() {
  const { t } = useI18n()
  const session = useSessionStore()
  const canCreate = computed(() => session.can('verification.create'))
  const canAnswer = computed(() => session.can('verification.answer'))
  const ownCounty = computed(() => (session.user?.region_code ?? '').slice(0, 6))

  // ---- list ----
  const tab = ref<VerificationDirection>(canAnswer.value ? 'incoming' : 'outgoing')
  const list = usePagedList<VerificationRequest>(({ page, page_size }): Promise<Page<VerificationRequest>> =>
    listVerificationRequests({ page, page_size, direction: tab.value }),
  )
  watch(tab, () => list.search())
  const emptyText = computed(() => (tab.value === 'outgoing' ? t('verification.emptyOutgoing') : t('verification.emptyIncoming')))
  /** The other county of a request, as its division code. */
  const otherCounty = (r: VerificationRequest) => (r.direction === 'outgoing' ? r.to_county : r.from_county)

  const send = useSendRequest(ownCounty, () => {
    if (tab.value === 'outgoing') list.search()
    else tab.value = 'outgoing'
  })

  void list.load()

  return {
    canCreate,
    canAnswer,
    tab,
    list,
    emptyText,
    otherCounty,
    ...send,
    ...useAnswerRequest(list),
  }
}

// County lists (county_admin, county_reviewer): the trust and dishonesty lists (守信激励 / 失信惩戒;
// a dishonest applicant cannot be accepted until the repayment is recorded, a trusted one may be
// accepted with documents missing) and the relatives of staff (备案; county home visit, never
// confirmed by the town).
import { computed, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox, type FormInstance, type FormRules } from 'element-plus'
import {
  addCredit,
  addRelative,
  listCredit,
  listRelatives,
  repayCredit,
  type CreditEntry,
  type CreditList,
  type StaffRelative,
} from '@/api/credit'
import { apiErrorMessage, newIdempotencyKey } from '@/api/http'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { submitForm } from '@/composables/submitForm'
import { usePagedList } from '@/composables/usePagedList'
import { citizenIdAdvice, normalizeCitizenId } from '@/utils/citizenId'
import { isValidYuan, yuanToFen } from '@/utils/money'

/** The credit entry dialog and the repayment of a dishonesty entry, over the `credit` list. */
function useCreditEntry(credit: ReturnType<typeof usePagedList<CreditEntry>>) {
  const { t } = useI18n()
  const creditRef = useTemplateRef<FormInstance>('creditForm')
  const creditDialog = reactive({
    visible: false,
    saving: false,
    citizen_id: '',
    name: '',
    list: 'dishonesty' as CreditList,
    reason: '',
    owed: '',
  })
  const creditErrors = useFieldErrors((f) => ['citizen_id', 'name', 'list', 'reason', 'owed_fen'].includes(f))
  const creditIdHint = computed(() => citizenIdAdvice(t, creditDialog.citizen_id))
  const creditRules = computed<FormRules>(() => ({
    citizen_id: [{ required: true, whitespace: true, message: t('member.citizenIdRequired'), trigger: 'blur' }],
    name: [{ required: true, whitespace: true, message: t('member.nameRequired'), trigger: 'blur' }],
    reason: [{ required: true, whitespace: true, message: t('creditLists.reasonRequired'), trigger: 'blur' }],
    owed: [
      {
        validator: (_r, v: string, cb) => (isValidYuan(v) ? cb() : cb(new Error(t('common.moneyFormat')))),
        trigger: 'blur',
      },
    ],
  }))
  // One Idempotency-Key per opened form (a resubmit cannot add the entry twice).
  let creditKey = newIdempotencyKey()
  function openCredit(list: CreditList = 'dishonesty'): void {
    creditKey = newIdempotencyKey()
    Object.assign(creditDialog, { visible: true, saving: false, citizen_id: '', name: '', list, reason: '', owed: '' })
    creditErrors.clear()
    creditRef.value?.clearValidate()
  }
  async function submitCredit(): Promise<void> {
    await submitForm({
      form: creditRef.value,
      errors: creditErrors,
      busy: (on) => (creditDialog.saving = on),
      save: async () => {
        await addCredit({
          citizen_id: normalizeCitizenId(creditDialog.citizen_id),
          name: creditDialog.name.trim(),
          list: creditDialog.list,
          reason: creditDialog.reason.trim(),
          owed_fen: creditDialog.list === 'dishonesty' ? yuanToFen(creditDialog.owed) : 0,
        }, creditKey)
        creditDialog.visible = false
        ElMessage.success(t('creditLists.added'))
        credit.page = 1
        await credit.load()
      },
    })
  }
  async function repay(row: CreditEntry): Promise<void> {
    const ok = await ElMessageBox.confirm(t('creditLists.repayConfirm', { name: row.name }), t('creditLists.repay'), {
      type: 'warning',
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
    }).catch(() => false)
    if (!ok) return
    try {
      await repayCredit(row.id)
      ElMessage.success(t('creditLists.repaid'))
      await credit.load()
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
    }
  }

  return { creditDialog, creditRules, creditErrors, creditIdHint, openCredit, submitCredit, repay }
}

/** The dialog that records a relative of staff, over the `relatives` list. */
function useRelativeEntry(relatives: ReturnType<typeof usePagedList<StaffRelative>>) {
  const { t } = useI18n()
  const relativeRef = useTemplateRef<FormInstance>('relativeForm')
  const relativeDialog = reactive({ visible: false, saving: false, citizen_id: '', name: '', staff_name: '', relation: '' })
  const relativeErrors = useFieldErrors((f) => ['citizen_id', 'name', 'staff_name', 'relation'].includes(f))
  const relativeIdHint = computed(() => citizenIdAdvice(t, relativeDialog.citizen_id))
  const relativeRules = computed<FormRules>(() => ({
    citizen_id: [{ required: true, whitespace: true, message: t('member.citizenIdRequired'), trigger: 'blur' }],
    name: [{ required: true, whitespace: true, message: t('member.nameRequired'), trigger: 'blur' }],
    staff_name: [{ required: true, whitespace: true, message: t('creditLists.staffNameRequired'), trigger: 'blur' }],
    relation: [{ required: true, whitespace: true, message: t('creditLists.relationRequired'), trigger: 'blur' }],
  }))
  let relativeKey = newIdempotencyKey()
  function openRelative(): void {
    relativeKey = newIdempotencyKey()
    Object.assign(relativeDialog, { visible: true, saving: false, citizen_id: '', name: '', staff_name: '', relation: '' })
    relativeErrors.clear()
    relativeRef.value?.clearValidate()
  }
  async function submitRelative(): Promise<void> {
    await submitForm({
      form: relativeRef.value,
      errors: relativeErrors,
      busy: (on) => (relativeDialog.saving = on),
      save: async () => {
        await addRelative({
          citizen_id: normalizeCitizenId(relativeDialog.citizen_id),
          name: relativeDialog.name.trim(),
          staff_name: relativeDialog.staff_name.trim(),
          relation: relativeDialog.relation.trim(),
        }, relativeKey)
        relativeDialog.visible = false
        ElMessage.success(t('creditLists.added'))
        relatives.page = 1
        await relatives.load()
      },
    })
  }

  return { relativeDialog, relativeRules, relativeErrors, relativeIdHint, openRelative, submitRelative }
}

export function useLists() {
  const tab = ref<'credit' | 'relatives'>('credit')

  const credit = usePagedList<CreditEntry>(listCredit)
  const relatives = usePagedList<StaffRelative>(listRelatives)

  void credit.load()
  void relatives.load()

  return {
    tab,
    credit,
    relatives,
    ...useCreditEntry(credit),
    ...useRelativeEntry(relatives),
  }
}

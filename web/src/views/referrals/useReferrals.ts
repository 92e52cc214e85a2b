// Referrals inbox (转办事项): the specialized assistance the policy engine lists at approval goes
// to the department liaisons, who accept and close them (closing needs the result). Other staff
// follow their region's referrals.
import { computed, onMounted, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormRules } from 'element-plus'
import { actOnReferral, listReferrals, type Referral, type ReferralStatus } from '@/api/referrals'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { useSessionStore } from '@/stores/session'

export function useReferrals() {
  const { t, te } = useI18n()
  const session = useSessionStore()
  const canAct = computed(() => session.can('referrals.act'))
  const canOpenCase = computed(() => session.can('cases.read'))
  const department = computed(() => session.user?.department ?? '')

  const status = ref<ReferralStatus | ''>('')
  const list = usePagedList<Referral>((q) => listReferrals({ status: status.value || undefined, ...q }), { clearOnError: true })

  const kindLabel = (k: string) => (te(`referralTask.kind.${k}`) ? t(`referralTask.kind.${k}`) : k)
  const triggersLabel = (list: string[]) =>
    list.length ? list.map((x) => (te(`referralTask.trigger.${x}`) ? t(`referralTask.trigger.${x}`) : x)).join('、') : t('common.none')

  // ---- accept / close ----
  const formRef = useTemplateRef<FormInstance>('referralForm')
  const dialog = reactive({
    visible: false,
    action: 'accept' as 'accept' | 'close',
    row: null as Referral | null,
    note: '',
    saving: false,
  })
  const errors = useFieldErrors((f) => f === 'note')
  const rules = computed<FormRules>(() =>
    dialog.action === 'close'
      ? { note: [{ required: true, whitespace: true, message: t('referralTask.noteRequired'), trigger: 'blur' }] }
      : {},
  )
  function open(row: Referral, action: 'accept' | 'close'): void {
    dialog.row = row
    dialog.action = action
    dialog.note = ''
    errors.clear()
    dialog.visible = true
    formRef.value?.clearValidate()
  }
  async function submit(): Promise<void> {
    errors.clear()
    const ok = await formRef.value?.validate().catch(() => false)
    if (ok === false || !dialog.row) return
    dialog.saving = true
    try {
      await actOnReferral(dialog.row.id, dialog.action, dialog.note.trim())
      dialog.visible = false
      ElMessage.success(t('referralTask.done', { action: t(`referralTask.action.${dialog.action}`) }))
      await list.load()
    } catch (e) {
      errors.show(e)
    } finally {
      dialog.saving = false
    }
  }

  onMounted(() => void list.load())

  return {
    canAct,
    canOpenCase,
    department,
    status,
    list,
    kindLabel,
    triggersLabel,
    dialog,
    rules,
    errors,
    open,
    submit,
  }
}

// Progress lookup (进度查询, no login): case number + the applicant's citizen id + the last four
// digits of the phone given with the application. Too many failed tries: the server's 429
// message (when to try again) is shown as it is.
import { computed, onMounted, reactive, ref, useTemplateRef } from 'vue'
import { useRoute } from 'vue-router'
import { useI18n } from 'vue-i18n'
import type { FormInstance, FormRules } from 'element-plus'
import { publicProgress, type PublicProgress } from '@/api/public'
import { isApiError } from '@/api/http'
import { normalizeCitizenId } from '@/utils/citizenId'

export function usePublicProgress() {
  const { t } = useI18n()
  const route = useRoute()
  const formRef = useTemplateRef<FormInstance>('progressForm')
  const form = reactive({ case_no: '', citizen_id: '', phone_last4: '' })
  const loading = ref(false)
  const error = ref('')
  const result = ref<PublicProgress | null>(null)

  const rules = computed<FormRules>(() => ({
    case_no: [{ required: true, whitespace: true, message: t('publicSite.progress.caseNoRequired'), trigger: 'blur' }],
    citizen_id: [{ required: true, whitespace: true, message: t('member.citizenIdRequired'), trigger: 'blur' }],
    phone_last4: [{ required: true, pattern: /^\d{4}$/, message: t('publicSite.progress.phoneLast4Required'), trigger: 'blur' }],
  }))

  /** Finished steps oldest first, as the server lists them. */
  const finished = computed(() => ['enrolled', 'refused', 'withdrawn'].includes(result.value?.state ?? ''))

  async function submit(): Promise<void> {
    error.value = ''
    const ok = await formRef.value?.validate().catch(() => false)
    if (!ok) return
    loading.value = true
    result.value = null
    try {
      result.value = await publicProgress(form.case_no.trim(), normalizeCitizenId(form.citizen_id), form.phone_last4.trim())
    } catch (e) {
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }

  onMounted(() => {
    if (typeof route.query.case_no === 'string') form.case_no = route.query.case_no
  })

  return { form, rules, loading, error, result, finished, submit }
}

// Online self-service application (网上申请, no login): the applicant gets a case number to look
// up the progress with (case number + citizen id). The town window receives it as channel `online`.
import { computed, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import type { FormInstance, FormItemRule, FormRules } from 'element-plus'
import { PROGRAMS, type Program } from '@/api/applications'
import { publicSubmit } from '@/api/public'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { submitForm } from '@/composables/submitForm'
import { citizenIdAdvice, normalizeCitizenId } from '@/utils/citizenId'
import { regionCascaderProps } from './usePublicRegions'

const FIELDS = ['name', 'citizen_id', 'phone', 'village_code', 'area', 'programs', 'description']

/** The application form's rules (the server checks again). */
function applyRules(t: ReturnType<typeof useI18n>['t']): FormRules {
  return {
    name: [{ required: true, whitespace: true, message: t('publicSite.apply.nameRequired'), trigger: 'blur' }],
    citizen_id: [{ required: true, whitespace: true, message: t('member.citizenIdRequired'), trigger: 'blur' }],
    phone: [
      {
        required: true,
        validator: (_r, v: string, cb) => (/^[0-9+\- ]{7,20}$/.test(v.trim()) ? cb() : cb(new Error(t('publicSite.apply.phoneFormat')))),
        trigger: 'blur',
      },
    ],
    region: [
      {
        required: true,
        validator: (_r, v: string[], cb) => (v.length === 2 ? cb() : cb(new Error(t('publicSite.apply.villageRequired')))),
        trigger: 'change',
      },
    ],
    programs: [{ type: 'array', required: true, min: 1, message: t('publicSite.apply.programsRequired'), trigger: 'change' }],
    consent: [
      {
        validator: ((_r, v: boolean, cb) => (v ? cb() : cb(new Error(t('publicSite.apply.consentRequired'))))) as FormItemRule['validator'],
        trigger: 'change',
      },
    ],
  }
}

export function usePublicApply() {
  const { t } = useI18n()
  const formRef = useTemplateRef<FormInstance>('applyForm')
  const form = reactive({
    name: '',
    citizen_id: '',
    phone: '',
    region: [] as string[],
    area: 'rural' as 'rural' | 'urban',
    programs: [...PROGRAMS] as Program[],
    description: '',
    consent: false,
  })
  const saving = ref(false)
  const caseNo = ref('')
  const regionError = ref('')
  const errors = useFieldErrors((f) => FIELDS.includes(f) || /^programs\[\d+\]$/.test(f))
  const cascaderProps = regionCascaderProps((m) => (regionError.value = m))

  const citizenIdHint = computed(() => citizenIdAdvice(t, form.citizen_id))

  const rules = computed(() => applyRules(t))

  async function submit(): Promise<void> {
    await submitForm({
      form: formRef.value,
      errors: errors,
      busy: (on) => (saving.value = on),
      save: async () => {
        const res = await publicSubmit({
          name: form.name.trim(),
          citizen_id: normalizeCitizenId(form.citizen_id),
          phone: form.phone.trim(),
          village_code: form.region[1] ?? '',
          area: form.area,
          programs: form.programs,
          description: form.description.trim(),
        })
        caseNo.value = res.case_no
        window.scrollTo({ top: 0 })
      },
    })
  }

  function again(): void {
    caseNo.value = ''
    Object.assign(form, {
      name: '',
      citizen_id: '',
      phone: '',
      region: [],
      area: 'rural',
      programs: [...PROGRAMS],
      description: '',
      consent: false,
    })
  }

  return { form, rules, saving, caseNo, errors, regionError, cascaderProps, citizenIdHint, submit, again }
}

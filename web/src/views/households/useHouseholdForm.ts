// Create (/households/new, with members) and edit (/households/:id/edit, household fields and
// `version` only). Money is typed in 元 and sent as integer 分. Server errors land under the form
// item their `field` names; a stale version shows "modified by someone else".
import { computed, nextTick, onMounted, reactive, ref, useTemplateRef, type Ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ElMessage, type FormInstance, type FormItemRule, type FormRules } from 'element-plus'
import {
  createHousehold,
  getHousehold,
  updateHousehold,
  type Area,
  type Household,
  type HouseholdFields,
} from '@/api/households'
import { isApiError, newIdempotencyKey } from '@/api/http'
import { useFieldErrors, PERSON_ALIASES, PERSON_FIELD } from '@/composables/useFieldErrors'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { fenToYuan, isValidYuan, yuanToFen } from '@/utils/money'
import { emptyMember, memberToInput, type MemberForm } from './memberForm'

export interface HouseholdFormModel {
  town_code: string
  village_code: string
  area: Area
  residence_address: string
  phone: string
  deposits: string
  vehicles: number
  extra_properties: number
  business: boolean
  medical: string
  education: string
  members: MemberForm[]
}

const HOUSEHOLD_FIELD =
  /^(village_code|area|residence_address|phone|assets\.(deposits_fen|vehicles|extra_properties|business)|annual_rigid_expenditure_fen\.(medical|education))$/

function yuanOrEmpty(fen: number | undefined): string {
  return fen ? fenToYuan(fen) : ''
}

type Translate = ReturnType<typeof useI18n>['t']
type Regions = ReturnType<typeof useRegionChoices>

function emptyHousehold(): HouseholdFormModel {
  return {
    town_code: '',
    village_code: '',
    area: 'rural',
    residence_address: '',
    phone: '',
    deposits: '',
    vehicles: 0,
    extra_properties: 0,
    business: false,
    medical: '',
    education: '',
    members: [emptyMember('head')],
  }
}

/** The form's rules; the town is asked for only where the user chooses it. */
function householdRules(t: Translate, chooseTown: boolean): FormRules {
  const money: FormItemRule = {
    validator: (_r, value: string, cb) => cb(isValidYuan(value ?? '') ? undefined : new Error(t('common.moneyFormat'))),
    trigger: 'blur',
  }
  return {
    town_code: chooseTown ? [{ required: true, message: t('household.form.townRequired'), trigger: 'change' }] : [],
    village_code: [{ required: true, message: t('household.form.villageRequired'), trigger: 'change' }],
    area: [{ required: true, message: t('household.form.areaRequired'), trigger: 'change' }],
    residence_address: [{ required: true, message: t('household.form.addressRequired'), trigger: 'blur' }],
    deposits: [money],
    medical: [money],
    education: [money],
  }
}

/** Puts the household fields of `h` in the edit form (members are edited on the detail page). */
function fillForm(form: HouseholdFormModel, h: Household): void {
  form.town_code = h.town_code
  form.village_code = h.village_code
  form.area = h.area
  form.residence_address = h.residence_address
  form.phone = h.phone ?? ''
  form.deposits = yuanOrEmpty(h.assets?.deposits_fen)
  form.vehicles = h.assets?.vehicles ?? 0
  form.extra_properties = h.assets?.extra_properties ?? 0
  form.business = !!h.assets?.business
  form.medical = yuanOrEmpty(h.annual_rigid_expenditure_fen?.medical)
  form.education = yuanOrEmpty(h.annual_rigid_expenditure_fen?.education)
  form.members = []
}

/** The household fields the form sends, money in 分. */
function householdFields(form: HouseholdFormModel): HouseholdFields {
  return {
    village_code: form.village_code,
    area: form.area,
    residence_address: form.residence_address.trim(),
    phone: form.phone.trim(),
    assets: {
      deposits_fen: yuanToFen(form.deposits),
      vehicles: form.vehicles ?? 0,
      extra_properties: form.extra_properties ?? 0,
      business: form.business,
    },
    annual_rigid_expenditure_fen: {
      medical: yuanToFen(form.medical),
      education: yuanToFen(form.education),
    },
  }
}

/** Loading the page: the region choices, and for an edit the household and its version. */
function useHouseholdLoad(id: Ref<string>, isEdit: Ref<boolean>, form: HouseholdFormModel, regions: Regions) {
  const { t } = useI18n()
  const version = ref(0)
  const loading = ref(false)
  const loadError = ref('')

  async function load(): Promise<void> {
    loadError.value = ''
    void regions.loadTowns()
    if (!isEdit.value) {
      if (regions.scopeLevel.value === 'village') form.village_code = regions.scope.value
      if (regions.scopeLevel.value !== 'county') void regions.loadVillages()
      return
    }
    loading.value = true
    try {
      const h = await getHousehold(id.value)
      fillForm(form, h)
      version.value = h.version
      await regions.loadVillages(h.town_code)
      // Keep the current village selectable even if the list does not contain it.
      if (!regions.villages.value.some((v) => v.code === h.village_code)) {
        regions.villages.value.unshift({ code: h.village_code, name: h.village_name })
      }
    } catch (e) {
      loadError.value =
        isApiError(e) && e.status === 404 ? t('household.detail.notFound') : isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }

  return { version, loading, loadError, load }
}

/** Saving: create with members or update with the version read, then show the household. */
function useHouseholdSave(
  id: Ref<string>,
  isEdit: Ref<boolean>,
  form: HouseholdFormModel,
  version: Ref<number>,
  errors: ReturnType<typeof useFieldErrors>,
) {
  const { t } = useI18n()
  const router = useRouter()
  const formRef = useTemplateRef<FormInstance>('formRef')
  const saving = ref(false)

  // The new-household form's Idempotency-Key: made when the page opens, reused by resubmits.
  const createKey = newIdempotencyKey()
  async function submit(): Promise<void> {
    errors.clear()
    const valid = await formRef.value?.validate().catch(() => false)
    if (!valid) {
      await nextTick()
      document.querySelector('.el-form-item.is-error')?.scrollIntoView({ block: 'center' })
      return
    }
    saving.value = true
    try {
      const saved = isEdit.value
        ? await updateHousehold(id.value, { ...householdFields(form), version: version.value })
        : await createHousehold({ ...householdFields(form), members: form.members.map(memberToInput) }, createKey)
      ElMessage.success(t(isEdit.value ? 'common.saved' : 'household.form.created'))
      await router.replace({ name: 'household-detail', params: { id: saved.id } })
    } catch (e) {
      const placed = errors.show(e)
      if (!placed) window.scrollTo({ top: 0, behavior: 'smooth' })
      if (isApiError(e) && e.code === 'version_conflict') ElMessage.error(t('error.versionConflict'))
    } finally {
      saving.value = false
    }
  }

  return { saving, submit }
}

export function useHouseholdForm() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const regions = useRegionChoices()

  const id = computed(() => (typeof route.params.id === 'string' ? route.params.id : ''))
  const isEdit = computed(() => id.value !== '')
  const form = reactive<HouseholdFormModel>(emptyHousehold())

  function isKnownField(field: string): boolean {
    if (HOUSEHOLD_FIELD.test(field)) return true
    if (isEdit.value) return false
    const m = /^members\[(\d+)\]\.(.+)$/.exec(field)
    return !!m && Number(m[1]) < form.members.length && PERSON_FIELD.test(m[2])
  }
  const errors = useFieldErrors(isKnownField, PERSON_ALIASES)
  const rules = computed<FormRules>(() => householdRules(t, regions.chooseTown.value))
  const { version, loading, loadError, load } = useHouseholdLoad(id, isEdit, form, regions)
  const { saving, submit } = useHouseholdSave(id, isEdit, form, version, errors)

  function onTownChange(): void {
    form.village_code = ''
    void regions.loadVillages(form.town_code)
  }

  function addMember(): void {
    form.members.push(emptyMember(''))
  }

  function removeMember(index: number): void {
    if (index > 0) form.members.splice(index, 1)
  }

  function cancel(): void {
    if (isEdit.value) void router.push({ name: 'household-detail', params: { id: id.value } })
    else void router.push({ name: 'households' })
  }

  function reload(): void {
    errors.clear()
    void load()
  }

  onMounted(load)

  return {
    isEdit,
    form,
    rules,
    regions,
    loading,
    loadError,
    saving,
    errors,
    onTownChange,
    addMember,
    removeMember,
    submit,
    cancel,
    reload,
  }
}

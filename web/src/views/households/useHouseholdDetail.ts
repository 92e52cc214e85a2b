// Household detail: the household, its members, and the add/edit/remove member actions.
import { computed, onMounted, reactive, ref, useTemplateRef, type Ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox, type FormInstance } from 'element-plus'
import {
  addMember,
  getHousehold,
  removePerson,
  updatePerson,
  type Household,
  type Person,
} from '@/api/households'
import { isApiError, newIdempotencyKey } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useFieldErrors, PERSON_ALIASES, PERSON_FIELD } from '@/composables/useFieldErrors'
import { emptyMember, memberFromPerson, memberToInput, type MemberForm } from './memberForm'

/** The household by id, with its members head first. */
function useHousehold(id: Ref<string>) {
  const { t } = useI18n()
  const household = ref<Household | null>(null)
  const loading = ref(false)
  const loadError = ref('')

  /** Head first, then in the order the server keeps. */
  const members = computed<Person[]>(() => {
    const list = household.value?.members ?? []
    return [...list.filter((m) => m.relation === 'head'), ...list.filter((m) => m.relation !== 'head')]
  })
  const head = computed(() => members.value.find((m) => m.relation === 'head') ?? null)

  async function load(): Promise<void> {
    loading.value = true
    loadError.value = ''
    try {
      household.value = await getHousehold(id.value)
    } catch (e) {
      household.value = null
      loadError.value =
        isApiError(e) && e.status === 404 ? t('household.detail.notFound') : isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }

  return { household, members, head, loading, loadError, load }
}

/** The add/edit member dialog; `saved` reloads the household. */
function useMemberDialog(id: Ref<string>, saved: () => Promise<void>) {
  const { t } = useI18n()
  const dialog = reactive({
    visible: false,
    mode: 'add' as 'add' | 'edit',
    person: null as Person | null,
    saving: false,
  })
  const memberFormRef = useTemplateRef<FormInstance>('memberFormRef')
  const memberForm = ref<MemberForm>(emptyMember(''))
  const memberErrors = useFieldErrors((f) => PERSON_FIELD.test(f), PERSON_ALIASES)

  // One Idempotency-Key per opened add-member form (a resubmit cannot add the member twice).
  let addKey = newIdempotencyKey()
  function openAdd(): void {
    addKey = newIdempotencyKey()
    dialog.mode = 'add'
    dialog.person = null
    memberForm.value = emptyMember('')
    memberErrors.clear()
    dialog.visible = true
    memberFormRef.value?.clearValidate()
  }

  function openEdit(p: Person): void {
    dialog.mode = 'edit'
    dialog.person = p
    memberForm.value = memberFromPerson(p)
    memberErrors.clear()
    dialog.visible = true
    memberFormRef.value?.clearValidate()
  }

  async function saveMember(): Promise<void> {
    memberErrors.clear()
    const valid = await memberFormRef.value?.validate().catch(() => false)
    if (!valid) return
    dialog.saving = true
    try {
      const input = memberToInput(memberForm.value)
      if (dialog.mode === 'edit' && dialog.person) {
        await updatePerson(dialog.person.id, { ...input, version: dialog.person.version })
      } else {
        await addMember(id.value, input, addKey)
      }
      dialog.visible = false
      ElMessage.success(t(dialog.mode === 'edit' ? 'common.saved' : 'member.added'))
      await saved()
    } catch (e) {
      memberErrors.show(e)
      if (isApiError(e) && e.code === 'version_conflict') ElMessage.error(t('error.versionConflict'))
    } finally {
      dialog.saving = false
    }
  }

  return { dialog, memberForm, memberErrors, openAdd, openEdit, saveMember }
}

/** Removing a member after a confirmation; `done` reloads the household either way. */
function useRemoveMember(done: () => Promise<void>) {
  const { t } = useI18n()

  async function confirmRemove(p: Person): Promise<void> {
    try {
      await ElMessageBox.confirm(t('member.removeConfirm', { name: p.name }), t('member.removeTitle'), {
        type: 'warning',
        confirmButtonText: t('common.remove'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    try {
      await removePerson(p.id, p.version)
      ElMessage.success(t('member.removed'))
    } catch (e) {
      ElMessage.error(
        isApiError(e) && e.code === 'version_conflict'
          ? t('error.versionConflict')
          : isApiError(e)
            ? e.message
            : t('error.unexpected'),
      )
    }
    await done()
  }

  return { confirmRemove }
}

export function useHouseholdDetail() {
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()

  const id = computed(() => String(route.params.id ?? ''))
  const canWrite = computed(() => session.can('registry.write'))
  const record = useHousehold(id)

  function edit(): void {
    void router.push({ name: 'household-edit', params: { id: id.value } })
  }

  function back(): void {
    if (window.history.state?.back) router.back()
    else void router.push({ name: 'households' })
  }

  onMounted(record.load)

  return {
    ...record,
    canWrite,
    ...useMemberDialog(id, record.load),
    ...useRemoveMember(record.load),
    edit,
    back,
  }
}

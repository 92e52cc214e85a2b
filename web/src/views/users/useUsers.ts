// User management (county_admin): paged list, create, disable/enable, reset password.
import { computed, onMounted, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox, type FormInstance, type FormItemRule, type FormRules } from 'element-plus'
import { createUser, listUsers, patchUser } from '@/api/users'
import { ROLES, type Role, type User } from '@/api/session'
import { apiErrorMessage } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { submitForm } from '@/composables/submitForm'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { useSessionStore } from '@/stores/session'

const TOWN_ROLES: readonly Role[] = ['town_clerk', 'town_reviewer']

/** The level of region a role's users hold (docs/api.md § Roles). */
export function regionLevelOfRole(role: Role | ''): 'county' | 'town' | 'village' {
  if (role === 'village_assistant') return 'village'
  if (role && TOWN_ROLES.includes(role)) return 'town'
  return 'county'
}

/** ≥ 10 characters with three of: upper case, lower case, digits, other (the server also checks the rest). */
export function passwordProblem(p: string): boolean {
  const classes = [/[A-Z]/, /[a-z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(p)).length
  return [...p].length < 10 || classes < 3
}

/** County admin and auditor accounts are managed only by the server's operator (CLI): 三员分立. */
export const CLI_ONLY_ROLES: readonly Role[] = ['county_admin', 'auditor']
export function cliOnly(role: Role): boolean {
  return CLI_ONLY_ROLES.includes(role)
}

type Translate = ReturnType<typeof useI18n>['t']

function passwordRule(t: Translate): FormItemRule {
  return {
    validator: (_r, v: string, cb) => cb(passwordProblem(v ?? '') ? new Error(t('user.passwordRule')) : undefined),
    trigger: 'blur',
  }
}

/** The create form's rules: the region and department asked for depend on the role. */
function createUserRules(t: Translate, level: 'county' | 'town' | 'village', needsDepartment: boolean): FormRules {
  return {
    username: [{ required: true, message: t('user.usernameRequired'), trigger: 'blur' }],
    display_name: [{ required: true, message: t('user.displayNameRequired'), trigger: 'blur' }],
    password: [{ required: true, message: t('user.passwordRequired'), trigger: 'blur' }, passwordRule(t)],
    role: [{ required: true, message: t('user.roleRequired'), trigger: 'change' }],
    town_code:
      level !== 'county' ? [{ required: true, message: t('user.townRequired'), trigger: 'change' }] : [],
    village_code:
      level === 'village' ? [{ required: true, message: t('user.villageRequired'), trigger: 'change' }] : [],
    department: needsDepartment
      ? [{ required: true, message: t('user.departmentRequired'), trigger: 'change' }]
      : [],
  }
}

const emptyUser = () => ({
  username: '',
  display_name: '',
  password: '',
  role: '' as Role | '',
  town_code: '',
  village_code: '',
  department: '',
})

/** The create dialog; `created` shows the list with the new account. */
function useCreateUser(regions: ReturnType<typeof useRegionChoices>, created: () => Promise<void>) {
  const { t } = useI18n()
  const session = useSessionStore()
  const createRef = useTemplateRef<FormInstance>('createRef')
  const createVisible = ref(false)
  const creating = ref(false)
  const createForm = reactive(emptyUser())
  const createErrors = useFieldErrors((f) =>
    ['username', 'display_name', 'password', 'role', 'region_code', 'department'].includes(f),
  )
  const roleLevel = computed(() => regionLevelOfRole(createForm.role))
  const needsDepartment = computed(() => createForm.role === 'department_liaison')

  const createRules = computed(() => createUserRules(t, roleLevel.value, needsDepartment.value))

  function regionCode(): string {
    if (roleLevel.value === 'village') return createForm.village_code
    if (roleLevel.value === 'town') return createForm.town_code
    return session.user?.region_code ?? ''
  }

  function openCreate(): void {
    Object.assign(createForm, emptyUser())
    createErrors.clear()
    createVisible.value = true
    createRef.value?.clearValidate()
    if (!regions.towns.value.length) void regions.loadTowns()
  }

  function onCreateTownChange(): void {
    createForm.village_code = ''
    if (roleLevel.value === 'village') void regions.loadVillages(createForm.town_code)
  }

  function onRoleChange(): void {
    if (!needsDepartment.value) createForm.department = ''
    if (roleLevel.value === 'village' && createForm.town_code) void regions.loadVillages(createForm.town_code)
  }

  async function submitCreate(): Promise<void> {
    await submitForm({
      form: createRef.value,
      errors: createErrors,
      busy: (on) => (creating.value = on),
      save: async () => {
        await createUser({
          username: createForm.username.trim(),
          display_name: createForm.display_name.trim(),
          password: createForm.password,
          role: createForm.role as Role,
          region_code: regionCode(),
          department: needsDepartment.value ? createForm.department : '',
        })
        createVisible.value = false
        ElMessage.success(t('user.created'))
        await created()
      },
    })
  }

  return {
    createVisible,
    creating,
    createForm,
    createRules,
    createErrors,
    roleLevel,
    needsDepartment,
    openCreate,
    onCreateTownChange,
    onRoleChange,
    submitCreate,
  }
}

/** The reset-password dialog of one account. */
function useResetPassword() {
  const { t } = useI18n()
  const resetRef = useTemplateRef<FormInstance>('resetRef')
  const reset = reactive({ visible: false, saving: false, user: null as User | null, password: '' })
  const resetErrors = useFieldErrors((f) => f === 'password')
  const resetRules = computed<FormRules>(() => ({
    password: [{ required: true, message: t('user.passwordRequired'), trigger: 'blur' }, passwordRule(t)],
  }))

  function openReset(u: User): void {
    reset.user = u
    reset.password = ''
    resetErrors.clear()
    reset.visible = true
    resetRef.value?.clearValidate()
  }

  async function submitReset(): Promise<void> {
    const u = reset.user
    if (!u) return
    await submitForm({
      form: resetRef.value,
      errors: resetErrors,
      busy: (on) => (reset.saving = on),
      save: async () => {
        const updated = await patchUser(u.id, { password: reset.password, version: u.version })
        Object.assign(u, updated)
        reset.visible = false
        ElMessage.success(t('user.passwordReset'))
      },
    })
  }

  return { reset, resetErrors, resetRules, openReset, submitReset }
}

export function useUsers() {
  const { t } = useI18n()
  const session = useSessionStore()
  const regions = useRegionChoices()

  const list = usePagedList<User>(listUsers)
  const create = useCreateUser(regions, async () => {
    list.page = 1
    await list.load()
  })

  // ---- disable / enable ----
  async function toggleDisabled(u: User): Promise<void> {
    const disabling = !u.disabled
    try {
      await ElMessageBox.confirm(
        t(disabling ? 'user.disableConfirm' : 'user.enableConfirm', { name: u.display_name }),
        t(disabling ? 'user.disable' : 'user.enable'),
        { type: 'warning', confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel') },
      )
    } catch {
      return
    }
    try {
      const updated = await patchUser(u.id, { disabled: disabling, version: u.version })
      Object.assign(u, updated)
      ElMessage.success(t(disabling ? 'user.disabledDone' : 'user.enabledDone'))
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
      await list.load()
    }
  }

  onMounted(list.load)

  return {
    list,
    roles: ROLES.filter((r) => !cliOnly(r)),
    cliOnly,
    regions,
    ...create,
    toggleDisabled,
    ...useResetPassword(),
    countyName: computed(() => session.user?.region_name ?? ''),
  }
}

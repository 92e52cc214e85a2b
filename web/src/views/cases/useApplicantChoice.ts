// The applicant of a new application: once a household is picked, its members (head first) are
// loaded and the head is chosen; the user may choose another member.
import { ref } from 'vue'
import type { FormItemRule } from 'element-plus'
import { getHousehold, type Person } from '@/api/households'
import type { useFieldErrors } from '@/composables/useFieldErrors'

/** The rules of the signed authorization and integrity commitment (SignatureFields): both ticked. */
export function signatureRules(t: (key: string) => string): Record<'authorization' | 'commitment', FormItemRule[]> {
  const mustBeChecked =
    (key: string): FormItemRule['validator'] =>
    (_r, v: boolean, cb) =>
      v ? cb() : cb(new Error(t(key)))
  return {
    authorization: [{ validator: mustBeChecked('cases.create.authorizationRequired'), trigger: 'change' }],
    commitment: [{ validator: mustBeChecked('cases.create.commitmentRequired'), trigger: 'change' }],
  }
}

export function useApplicantChoice(
  form: { household_id: number | null; applicant_person_id: number | null },
  errors: ReturnType<typeof useFieldErrors>,
) {
  const members = ref<Person[]>([])
  const loadingMembers = ref(false)
  let memberRequest = 0

  async function onHouseholdPicked(): Promise<void> {
    errors.clearField('household_id')
    form.applicant_person_id = null
    members.value = []
    const id = form.household_id
    if (!id) return
    const mine = ++memberRequest
    loadingMembers.value = true
    try {
      const h = await getHousehold(id)
      if (mine !== memberRequest) return
      members.value = [...h.members].sort((a, b) => (a.relation === 'head' ? -1 : b.relation === 'head' ? 1 : 0))
      form.applicant_person_id = members.value.find((m) => m.relation === 'head')?.id ?? null
    } catch (e) {
      if (mine === memberRequest) errors.show(e)
    } finally {
      if (mine === memberRequest) loadingMembers.value = false
    }
  }

  return { members, loadingMembers, onHouseholdPicked }
}

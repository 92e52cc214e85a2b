// The editable shape of a member (money as 元 strings) and its conversion to/from PersonInput.
import {
  INCOME_KINDS,
  type DisabilityKind,
  type MonthlyIncomeFen,
  type Person,
  type PersonInput,
  type Relation,
  type SelfCare,
} from '@/api/households'
import { fenToYuan, yuanToFen } from '@/utils/money'
import { normalizeCitizenId } from '@/utils/citizenId'

export type IncomeKind = keyof MonthlyIncomeFen

export interface MemberForm {
  /** Client-only key for v-for; never sent. */
  uid: number
  citizen_id: string
  name: string
  relation: Relation | ''
  disability_kind: DisabilityKind | 'none'
  disability_grade: number | null
  serious_illness: boolean
  self_care: SelfCare
  in_school: boolean
  employed: boolean
  has_supporter: boolean
  /** 元, as typed */
  income: Record<IncomeKind, string>
}

function emptyIncome(): Record<IncomeKind, string> {
  return { wage: '', business: '', property: '', transfer: '', pension: '', other: '' }
}

let nextUid = 1

export function emptyMember(relation: Relation | '' = ''): MemberForm {
  return {
    uid: nextUid++,
    citizen_id: '',
    name: '',
    relation,
    disability_kind: 'none',
    disability_grade: null,
    serious_illness: false,
    self_care: 'full',
    in_school: false,
    employed: false,
    has_supporter: false,
    income: emptyIncome(),
  }
}

export function memberFromPerson(p: Person): MemberForm {
  const income = emptyIncome()
  for (const k of INCOME_KINDS) {
    const fen = p.monthly_income_fen?.[k] ?? 0
    income[k] = fen ? fenToYuan(fen) : ''
  }
  return {
    uid: nextUid++,
    citizen_id: p.citizen_id,
    name: p.name,
    relation: p.relation,
    disability_kind: p.disability?.kind ?? 'none',
    disability_grade: p.disability?.grade ?? null,
    serious_illness: p.serious_illness,
    self_care: p.self_care,
    in_school: p.in_school,
    employed: p.employed,
    has_supporter: p.has_supporter,
    income,
  }
}

/**
 * The JSON the server takes. Values the client cannot check (an empty relation, a disability
 * without grade) are passed through as they are, so that the server names the field.
 */
export function memberToInput(m: MemberForm): PersonInput {
  const monthly = {} as MonthlyIncomeFen
  for (const k of INCOME_KINDS) monthly[k] = yuanToFen(m.income[k])
  return {
    citizen_id: normalizeCitizenId(m.citizen_id),
    name: m.name.trim(),
    relation: m.relation as Relation,
    disability: m.disability_kind !== 'none' ? { kind: m.disability_kind, grade: m.disability_grade ?? 0 } : null,
    serious_illness: m.serious_illness,
    self_care: m.self_care,
    in_school: m.in_school,
    employed: m.employed,
    has_supporter: m.has_supporter,
    monthly_income_fen: monthly,
  }
}

/** Sum of a person's monthly incomes in fen. */
export function monthlyIncomeTotal(p: PersonInput): number {
  return INCOME_KINDS.reduce((s, k) => s + (p.monthly_income_fen?.[k] ?? 0), 0)
}

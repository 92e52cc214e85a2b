// The public pages, no login: regions, notice board, online application, progress (docs/api.md
// § Public).
import { http } from './http'
import type { CaseState, Program } from './applications'

export interface PublicRegion {
  code: string
  name: string
  level: 'town' | 'village'
}

export async function publicRegions(parent: string): Promise<PublicRegion[]> {
  return (await http.get<{ items: PublicRegion[] }>('/api/v1/public/regions', { parent })).items
}

export interface PublicNotice {
  case_no: string
  name: string
  household_size: number
  programs: Program[]
  monthly_fen: number
  citizen_id_masked: string
  notice_ends: string
  village_name?: string
}

export async function publicNotices(village: string): Promise<PublicNotice[]> {
  return (await http.get<{ items: PublicNotice[] }>('/api/v1/public/notices', { village })).items
}

export interface PublicApplicationInput {
  name: string
  citizen_id: string
  phone: string
  village_code: string
  area: 'urban' | 'rural'
  programs: Program[]
  description: string
}

export function publicSubmit(input: PublicApplicationInput): Promise<{ case_no: string }> {
  return http.post<{ case_no: string }>('/api/v1/public/applications', input)
}

export interface PublicProgress {
  case_no: string
  state: CaseState
  state_label: string
  received_at: string
  due_date: string | null
  steps: { at: string; label: string }[]
}

/** Case number, the applicant's citizen id and the last four digits of the phone given with the
 * application (failed tries are limited: 429 too_many_requests with a message to show). */
export function publicProgress(caseNo: string, citizenId: string, phoneLast4: string): Promise<PublicProgress> {
  return http.get<PublicProgress>(`/api/v1/public/applications/${encodeURIComponent(caseNo)}`, {
    citizen_id: citizenId,
    phone_last4: phoneLast4,
  })
}

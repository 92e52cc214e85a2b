// The application workflow and what hangs on it (docs/api.md § Applications, § Notices,
// § Enrollments and referrals, § Emergency help, § Credit and relatives, § Calendar, § Public;
// states and transitions: docs/workflow.md). Money is integer fen; dates YYYY-MM-DD.
import { http, type Page, type PageQuery } from './http'
import type { Household } from './households'

// ---------------------------------------------------------------- applications

/** The five programmes of one application (五合一), in the order the app shows them. */
export const PROGRAMS = ['dibao', 'tekun', 'temporary', 'marginal', 'illness_poverty'] as const
export type Program = (typeof PROGRAMS)[number]

/** Channels a staff member may record; `online` arrives from the public form only. */
export const STAFF_CHANNELS = ['window', 'assistant', 'hotline', 'discovery'] as const
export type Channel = (typeof STAFF_CHANNELS)[number] | 'online'

export const CASE_STATES = [
  'received',
  'documents_requested',
  'accepted',
  'visited',
  'verified',
  'public_notice',
  'awaiting_decision',
  'enrolled',
  'refused',
  'withdrawn',
] as const
export type CaseState = (typeof CASE_STATES)[number]
export const FINAL_STATES: readonly CaseState[] = ['enrolled', 'refused', 'withdrawn']

export const CASE_ACTIONS = [
  'link_household',
  'record_signatures',
  'request_documents',
  'accept',
  'record_visit',
  'record_verification',
  'town_opinion',
  'record_objection',
  'answer_objection',
  'close_notice',
  'approve',
  'refuse',
  'extend',
  'withdraw',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

/** `overdue`, `due_soon` (≤ 2 working days left), `ok`, or '' when not running. */
export type DueStatus = 'overdue' | 'due_soon' | 'ok' | ''

export interface ApplicationSummary {
  id: number
  version: number
  case_no: string
  state: CaseState
  state_label: string
  channel: Channel
  programs: Program[]
  household_id: number | null
  village_code: string
  village_name: string
  town_name: string
  applicant_name: string
  applicant_citizen_id_masked: string
  staff_relative: boolean
  escalated: boolean
  delegated: boolean
  received_at: string
  accepted_at: string | null
  due_date: string | null
  due_status: DueStatus
  extended: boolean
  missing_items: string[]
  notice_ends: string | null
  decided_at: string | null
  decision: 'approved' | 'refused' | 'withdrawn' | null
  created_by: string
}

export interface Visit {
  visited_on: string
  staff: string[]
  findings: string
  recorded_by: string
}

export interface Verification {
  date: string
  findings: string
  recorded_by: string
}

export interface TownOpinion {
  recommend: 'approve' | 'refuse'
  opinion: string
  escalate: boolean
  by: string
  at: string
}

export interface Objection {
  id: number
  content: string
  by: string
  recorded_by: string
  recorded_at: string
  answer: string | null
  answered_by: string
  answered_at: string
}

export interface EnrollmentRef {
  id: number
  program: string
  covered: string[]
  monthly_fen: number
  one_off_fen: number
  first_paid_month: string
  status: string
  next_review_date: string
}

export type NoticeKind = 'acceptance' | 'missing_items' | 'refusal' | 'termination' | 'approval'

export interface NoticeRef {
  id: number
  kind: NoticeKind | (string & {})
  created_at: string
  sha256: string
}

export interface ReferralRef {
  id: number
  kind: string
  department: string
  department_label: string
  status: ReferralStatus
  due_date: string
}

/** The part of the policy engine's output the case page shows (docs/policy-rules.md § 11). */
export interface CaseDeterminations {
  date: string
  dibao?: {
    eligible: boolean
    monthly_fen?: number
    coverage?: string | null
    covered?: string[]
    base_monthly_fen?: number
    supplement_monthly_fen?: number
    rule?: string | null
  }
  tekun?: { eligible: boolean; monthly_fen?: number; covered?: string[] }
  marginal?: { eligible: boolean }
  temporary?: { eligible: boolean; amount_fen?: number; approver?: string | null }
  expenditure_hardship?: { eligible: boolean }
  illness_poverty?: { eligible: boolean; covered?: string[] }
  referrals?: { kind: string; department: string; department_label: string; triggers: string[] }[]
}

export interface Application extends ApplicationSummary {
  applicant_citizen_id: string
  applicant_phone: string
  description: string
  household: Household | null
  visit: Visit | null
  visits: Visit[]
  verification: Verification | null
  determinations: CaseDeterminations | null
  town_opinion: TownOpinion | null
  notice_starts: string | null
  decision_note: string
  objections: Objection[]
  enrollments: EnrollmentRef[]
  notices: NoticeRef[]
  referrals: ReferralRef[]
  allowed_actions: CaseAction[]
  attachments?: Attachment[]
  authorization_signed?: boolean
  commitment_signed?: boolean
}

export interface ApplicationInput {
  household_id: number
  channel: (typeof STAFF_CHANNELS)[number]
  programs: Program[]
  applicant_person_id?: number
  authorization: boolean
  commitment: boolean
  note?: string
  /** Residence-permit holders: the 6-digit county of the hukou; another county opens a verification request there. */
  hukou_county?: string
  /** With `hukou_county`: what the hukou county is asked to verify. */
  verification_subject?: string
}

export interface ApplicationQuery extends PageQuery {
  /** a state, or `open` for every state not final */
  state?: CaseState | 'open' | ''
  /** case number or applicant name */
  q?: string
  /** a region code inside the user's scope (town or village) */
  village?: string
  sort?: 'due' | 'new'
}

export interface TimelineEntry {
  id: number
  at: string
  actor: string
  action: string
  from: string
  to: string
  note: string
  details?: Record<string, unknown>
}

/** Body of POST /applications/{id}/actions besides `action` and `version`. */
export interface ActionPayload {
  household_id?: number
  authorization?: boolean
  commitment?: boolean
  missing_items?: string[]
  visited_on?: string
  staff?: string[]
  findings?: string
  date?: string
  recommend?: 'approve' | 'refuse'
  opinion?: string
  escalate?: boolean
  content?: string
  by?: string
  objection_id?: number
  answer?: string
  reasons?: string
  reason?: string
}

export function listApplications(query: ApplicationQuery): Promise<Page<ApplicationSummary>> {
  return http.get<Page<ApplicationSummary>>('/api/v1/applications', { ...query })
}

export function getApplication(id: number | string): Promise<Application> {
  return http.get<Application>(`/api/v1/applications/${id}`)
}

export function createApplication(input: ApplicationInput, idempotencyKey?: string): Promise<Application> {
  return http.post<Application>('/api/v1/applications', input, { idempotencyKey })
}

export async function getTimeline(id: number | string): Promise<TimelineEntry[]> {
  return (await http.get<{ items: TimelineEntry[] }>(`/api/v1/applications/${id}/timeline`)).items
}

/** Always sends the version the page read; a stale one answers 409 version_conflict. */
export function actOnApplication(
  id: number | string,
  action: CaseAction,
  version: number,
  payload: ActionPayload = {},
): Promise<Application> {
  return http.post<Application>(`/api/v1/applications/${id}/actions`, { ...payload, action, version })
}

// ---------------------------------------------------------------- notices

/** The archived A4 page (text/html), opened in a new tab. */
export function noticePrintUrl(id: number): string {
  return `/api/v1/notices/${id}/print`
}

// ---------------------------------------------------------------- enrollments and referrals

export interface Enrollment {
  id: number
  household_id: number
  application_id: number
  program: string
  covered: string[]
  monthly_fen: number
  one_off_fen: number
  first_paid_month: string
  status: string
  next_review_date: string
  village_name: string
  head_name: string
}

export function listEnrollments(query: PageQuery & { status?: string }): Promise<Page<Enrollment>> {
  return http.get<Page<Enrollment>>('/api/v1/enrollments', { ...query })
}

// ---------------------------------------------------------------- 一户一案 and dynamic management

export type EnrollmentStatus = 'active' | 'suspended' | 'terminated' | 'paid'

export interface FileEnrollment {
  id: number
  application_id: number | null
  program: string
  covered: string[]
  monthly_fen: number
  one_off_fen: number
  first_paid_month: string
  status: EnrollmentStatus | (string & {})
  next_review_date: string
  ends_on: string | null
  status_reason: string
  version: number
}

export interface FileNotice {
  id: number
  kind: NoticeKind | (string & {})
  created_at: string
  application_id: number
  case_no: string
}

export interface FileVisit {
  application_id: number
  case_no: string
  visit: Visit | null
}

export interface FileDetermination {
  application_id: number
  case_no: string
  date: string
  dibao: boolean
  dibao_monthly_fen: number
  tekun: boolean
  marginal: boolean
  temporary_fen: number
}

/** GET /api/v1/households/{id}/file (一户一案). */
export interface HouseholdFile {
  household_id: number
  applications: ApplicationSummary[]
  notices: FileNotice[]
  visits: FileVisit[]
  determinations: FileDetermination[]
  enrollments: FileEnrollment[]
}

export function getHouseholdFile(householdId: number | string): Promise<HouseholdFile> {
  return http.get<HouseholdFile>(`/api/v1/households/${householdId}/file`)
}

export const ENROLLMENT_ACTIONS = ['review', 'change_amount', 'suspend', 'resume', 'terminate'] as const
export type EnrollmentAction = (typeof ENROLLMENT_ACTIONS)[number]

export interface EnrollmentActionPayload {
  monthly_fen?: number
  reason?: string
  stable?: boolean
  gradual_exit?: boolean
}

export interface EnrollmentActionResult {
  id: number
  status: string
  monthly_fen: number
  next_review_date: string
  ends_on: string | null
  reason: string
  version: number
  program: string
}

/** Always sends the version the page read; a stale one answers 409 version_conflict. */
export function actOnEnrollment(
  id: number,
  action: EnrollmentAction,
  version: number,
  payload: EnrollmentActionPayload = {},
): Promise<EnrollmentActionResult> {
  return http.post<EnrollmentActionResult>(`/api/v1/enrollments/${id}/actions`, { ...payload, action, version })
}

// ---------------------------------------------------------------- scanned signed pages

export const ATTACHMENT_KINDS = ['authorization', 'commitment', 'other'] as const
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number]
export const ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number]
/** Base64 grows the file by a third; 700 KB keeps the body under the server's 1 MiB limit. */
export const ATTACHMENT_MAX_BYTES = 700 * 1024

export interface Attachment {
  id: number
  kind: AttachmentKind | (string & {})
  filename: string
  content_type: string
  size_bytes: number
  uploaded_by: string
  uploaded_at: string
}

export interface AttachmentInput {
  kind: AttachmentKind
  filename: string
  content_type: AttachmentType
  data_base64: string
}

export function uploadAttachment(applicationId: number | string, input: AttachmentInput): Promise<unknown> {
  return http.post<unknown>(`/api/v1/applications/${applicationId}/attachments`, input)
}

export function attachmentUrl(id: number): string {
  return `/api/v1/attachments/${id}`
}

export const REFERRAL_STATUSES = ['open', 'accepted', 'closed'] as const
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number]

export interface Referral {
  id: number
  version: number
  application_id: number
  household_id: number
  kind: string
  department: string
  department_label: string
  status: ReferralStatus
  due_date: string
  due_status: DueStatus
  note: string
  triggers: string[]
}

export function listReferrals(query: PageQuery & { status?: ReferralStatus | '' }): Promise<Page<Referral>> {
  return http.get<Page<Referral>>('/api/v1/referrals', { ...query })
}

export function actOnReferral(
  id: number,
  action: 'accept' | 'close',
  note: string,
): Promise<{ id: number; status: ReferralStatus; note: string }> {
  return http.post(`/api/v1/referrals/${id}/actions`, { action, note })
}

// ---------------------------------------------------------------- cross-region verification (异地协查)
// An application registered with a `hukou_county` other than its own county opens a request to
// that county; the hukou county's staff answer it.

export type VerificationDirection = 'incoming' | 'outgoing'
export type VerificationStatus = 'open' | 'answered'

export interface VerificationRequest {
  id: number
  application_id: number
  from_county: string
  to_county: string
  direction: VerificationDirection
  citizen_id: string
  applicant_name: string
  status: VerificationStatus
  answer: string
  created_at: string
  answered_at: string
  /** What the hukou county is asked to verify. */
  subject: string
  case_no: string
}

/**
 * Requests sent by (a town: of its own applications) or, for county staff, to the user's
 * county, newest first; `direction` keeps one side.
 */
export function listVerificationRequests(query: PageQuery & { direction?: VerificationDirection }): Promise<Page<VerificationRequest>> {
  return http.get<Page<VerificationRequest>>('/api/v1/verification-requests', { ...query })
}

/** County staff of the hukou county answer an open request. */
export function answerVerificationRequest(id: number, answer: string): Promise<{ id: number; status: VerificationStatus; answer: string }> {
  return http.post(`/api/v1/verification-requests/${id}/answer`, { answer })
}

// ---------------------------------------------------------------- emergency help

export const EMERGENCY_KINDS = ['accident', 'fire', 'illness', 'disaster', 'other'] as const
export type EmergencyKind = (typeof EMERGENCY_KINDS)[number]
export type EmergencyState = 'paid' | 'awaiting_county' | 'rejected'
export type EmergencyApprover = 'town' | 'county' | 'case_conference'

export interface EmergencyAid {
  id: number
  version: number
  town_code: string
  town_name: string
  person_name: string
  citizen_id_masked: string
  hukou_division: string
  kind: EmergencyKind
  loss_fen: number
  amount_fen: number
  description: string
  state: EmergencyState
  approver: EmergencyApprover | null
  paid_at: string | null
  paperwork_completed: boolean
  case_conference: { members: string[]; decision: 'approve' | 'reject'; note?: string } | null
  created_at: string
}

export interface EmergencyInput {
  town_code?: string
  household_id?: number
  person_name: string
  citizen_id: string
  hukou_division: string
  kind: EmergencyKind
  loss_fen: number
  amount_fen: number
  description: string
}

export type EmergencyAction = 'approve_county' | 'reject' | 'case_conference' | 'complete_paperwork'

/**
 * The town's act-first ceiling in force today (`temporary.town_ceiling_fen` of the county's pack,
 * GET /api/v1/policy); null when it cannot be read.
 */
export async function townCeilingFen(): Promise<number | null> {
  const res = await http.get<{ parameters: { key: string; value: string | number }[] }>('/api/v1/policy')
  const v = res.parameters.find((p) => p.key === 'temporary.town_ceiling_fen')?.value
  const n = Number(v)
  return v !== undefined && Number.isInteger(n) ? n : null
}

export function createEmergency(input: EmergencyInput, idempotencyKey?: string): Promise<EmergencyAid> {
  return http.post<EmergencyAid>('/api/v1/emergency-aid', input, { idempotencyKey })
}

export function listEmergency(query: PageQuery): Promise<Page<EmergencyAid>> {
  return http.get<Page<EmergencyAid>>('/api/v1/emergency-aid', { ...query })
}

export function actOnEmergency(
  id: number,
  action: EmergencyAction,
  version: number,
  extra: { members?: string[]; decision?: 'approve' | 'reject'; note?: string } = {},
): Promise<EmergencyAid> {
  return http.post<EmergencyAid>(`/api/v1/emergency-aid/${id}/actions`, { ...extra, action, version })
}

export interface ReserveFund {
  town_code: string
  town_name: string
  population?: number
  balance_fen: number
  required_fen: number
}

export async function listReserveFunds(): Promise<ReserveFund[]> {
  return (await http.get<{ items: ReserveFund[] }>('/api/v1/reserve-funds')).items
}

/** county_admin; answers the funds afresh. */
export async function depositReserve(town: string, amountFen: number, note: string, idempotencyKey?: string): Promise<ReserveFund[]> {
  const res = await http.post<{ items: ReserveFund[] }>(
    `/api/v1/reserve-funds/${encodeURIComponent(town)}/deposits`,
    { amount_fen: amountFen, note },
    { idempotencyKey },
  )
  return res.items
}

// ---------------------------------------------------------------- credit and relatives

export type CreditList = 'trust' | 'dishonesty'

export interface CreditEntry {
  id: number
  citizen_id: string
  name: string
  list: CreditList
  reason: string
  owed_fen: number
  repaid_at: string | null
  created_at?: string
}

export interface CreditInput {
  citizen_id: string
  name: string
  list: CreditList
  reason: string
  owed_fen: number
}

export function listCredit(query: PageQuery): Promise<Page<CreditEntry>> {
  return http.get<Page<CreditEntry>>('/api/v1/credit', { ...query })
}

export function addCredit(input: CreditInput, idempotencyKey?: string): Promise<CreditEntry> {
  return http.post<CreditEntry>('/api/v1/credit', input, { idempotencyKey })
}

export function repayCredit(id: number): Promise<{ id: number; repaid_at: string }> {
  return http.post(`/api/v1/credit/${id}/repay`, {})
}

export interface StaffRelative {
  id: number
  citizen_id: string
  name: string
  staff_name: string
  relation: string
  created_at?: string
}

export type StaffRelativeInput = Omit<StaffRelative, 'id' | 'created_at'>

export function listRelatives(query: PageQuery): Promise<Page<StaffRelative>> {
  return http.get<Page<StaffRelative>>('/api/v1/staff-relatives', { ...query })
}

export function addRelative(input: StaffRelativeInput, idempotencyKey?: string): Promise<StaffRelative> {
  return http.post<StaffRelative>('/api/v1/staff-relatives', input, { idempotencyKey })
}

// ---------------------------------------------------------------- calendar

export type DayKind = 'holiday' | 'workday'

export interface Holiday {
  day: string
  kind: DayKind
  name: string
}

export async function listHolidays(year: string): Promise<Holiday[]> {
  return (await http.get<{ items: Holiday[] }>('/api/v1/holidays', { year })).items
}

export function setHoliday(day: string, kind: DayKind, name: string): Promise<Holiday> {
  return http.put<Holiday>(`/api/v1/holidays/${encodeURIComponent(day)}`, { kind, name })
}

export function deleteHoliday(day: string): Promise<unknown> {
  return http.delete<unknown>(`/api/v1/holidays/${encodeURIComponent(day)}`)
}

export function workingDays(from: string, days: number): Promise<{ from: string; days: number; due: string }> {
  return http.get('/api/v1/working-days', { from, days })
}

// ---------------------------------------------------------------- public (no login)

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

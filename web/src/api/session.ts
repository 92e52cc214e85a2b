// POST/GET/DELETE /api/v1/session (docs/api.md § Session).
import { http } from './http'

export type Role =
  | 'county_admin'
  | 'county_reviewer'
  | 'town_clerk'
  | 'town_reviewer'
  | 'village_assistant'
  | 'department_liaison'
  | 'supervisor'
  | 'auditor'

export const ROLES: readonly Role[] = [
  'county_admin',
  'county_reviewer',
  'town_clerk',
  'town_reviewer',
  'village_assistant',
  'department_liaison',
  'supervisor',
  'auditor',
]

export interface User {
  id: number
  username: string
  display_name: string
  role: Role
  region_code: string
  region_name: string
  department: string
  disabled: boolean
  must_change_credentials?: boolean
  totp_enabled?: boolean
  version: number
}

/** What a session must do first: change the password or enrol a second factor (TOTP). */
export type Pending = '' | 'password_change' | 'totp_enrolment'

export interface SessionInfo {
  user: User
  csrf_token: string
  pending?: Pending
}

/** Logs in; `totpCode` for accounts with a second factor (the server answers totp_required without it). */
export function login(username: string, password: string, totpCode = ''): Promise<SessionInfo> {
  const body: Record<string, string> = { username, password }
  if (totpCode) body.totp_code = totpCode
  return http.post<SessionInfo>('/api/v1/session', body, { noAuthRedirect: true })
}

/** Changes one's own password (POST /api/v1/session/password). */
export function changePassword(oldPassword: string, newPassword: string): Promise<SessionInfo> {
  return http.post<SessionInfo>('/api/v1/session/password', { old_password: oldPassword, new_password: newPassword })
}

export interface TotpEnrolment {
  secret: string
  otpauth_uri: string
}

/** Starts TOTP enrolment: a new secret (not active until confirmed). */
export function beginTotp(): Promise<TotpEnrolment> {
  return http.post<TotpEnrolment>('/api/v1/session/totp', {})
}

/** Confirms TOTP enrolment with a code from the authenticator app. */
export function confirmTotp(code: string): Promise<SessionInfo> {
  return http.post<SessionInfo>('/api/v1/session/totp/confirm', { code })
}

/** Restores the session from the cookie; rejects with ApiError 401 when there is none. */
export function currentSession(): Promise<SessionInfo> {
  return http.get<SessionInfo>('/api/v1/session', undefined, { noAuthRedirect: true })
}

export function logout(): Promise<void> {
  return http.delete('/api/v1/session', undefined, { noAuthRedirect: true })
}

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
  version: number
}

export interface SessionInfo {
  user: User
  csrf_token: string
}

export function login(username: string, password: string): Promise<SessionInfo> {
  return http.post<SessionInfo>('/api/v1/session', { username, password }, { noAuthRedirect: true })
}

/** Restores the session from the cookie; rejects with ApiError 401 when there is none. */
export function currentSession(): Promise<SessionInfo> {
  return http.get<SessionInfo>('/api/v1/session', undefined, { noAuthRedirect: true })
}

export function logout(): Promise<void> {
  return http.delete('/api/v1/session', undefined, { noAuthRedirect: true })
}

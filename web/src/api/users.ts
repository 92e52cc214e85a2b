// GET/POST/PATCH /api/v1/users (docs/api.md § Users; county_admin only).
import { http, type Page, type PageQuery } from './http'
import type { Role, User } from './session'

export const DEPARTMENTS = [
  '医保局',
  '教育局',
  '住建局',
  '人社局',
  '司法局',
  '应急管理局',
  '残联',
  '总工会',
  '妇联',
  '团县委',
] as const

export interface UserCreateInput {
  username: string
  password: string
  display_name: string
  role: Role
  region_code: string
  department: string
}

export interface UserPatch {
  display_name?: string
  disabled?: boolean
  password?: string
  version: number
}

export function listUsers(query: PageQuery): Promise<Page<User>> {
  return http.get<Page<User>>('/api/v1/users', { ...query })
}

export function createUser(input: UserCreateInput): Promise<User> {
  return http.post<User>('/api/v1/users', input)
}

export function patchUser(id: number, patch: UserPatch): Promise<User> {
  return http.patch<User>(`/api/v1/users/${id}`, patch)
}

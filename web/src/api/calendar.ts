// The county's holiday calendar and working days, and the deadline status they give a case or a
// referral (docs/api.md § Calendar). Dates YYYY-MM-DD.
import { http } from './http'

/** `overdue`, `due_soon` (≤ 2 working days left), `ok`, or '' when not running. */
export type DueStatus = 'overdue' | 'due_soon' | 'ok' | ''

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

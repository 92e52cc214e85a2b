// The logged-in user and the CSRF token of the session. On app start `restore()` asks
// GET /api/v1/session whether the cookie still holds a session.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import * as sessionApi from '@/api/session'
import type { Pending, SessionInfo, User } from '@/api/session'
import { isApiError } from '@/api/http'
import { roleCan, type Permission } from '@/utils/permissions'

export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  const csrfToken = ref('')
  const pending = ref<Pending>('')
  let restoring: Promise<void> | null = null

  const loggedIn = computed(() => user.value !== null)

  function set(s: SessionInfo): void {
    user.value = s.user
    csrfToken.value = s.csrf_token
    pending.value = s.pending ?? ''
  }

  function clear(): void {
    user.value = null
    csrfToken.value = ''
    pending.value = ''
  }

  /** Restores the session once per page load; later calls wait for the same answer. */
  function restore(): Promise<void> {
    if (!restoring) {
      restoring = sessionApi
        .currentSession()
        .then(set)
        .catch((e: unknown) => {
          clear()
          if (!isApiError(e) || e.status !== 401) console.warn('session restore failed', e)
        })
    }
    return restoring
  }

  async function login(username: string, password: string, totpCode = ''): Promise<void> {
    set(await sessionApi.login(username, password, totpCode))
    restoring = Promise.resolve()
  }

  async function logout(): Promise<void> {
    try {
      await sessionApi.logout()
    } finally {
      clear()
    }
  }

  function can(perm: Permission): boolean {
    return roleCan(user.value?.role, perm)
  }

  return { user, csrfToken, pending, loggedIn, restore, login, logout, clear, can, set }
})

import { computed, ref, watch, type Component } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { DataAnalysis, Document, House, MapLocation, Notebook, User } from '@element-plus/icons-vue'
import { Calendar, Connection, FirstAidKit, List, Share, Tickets } from '@element-plus/icons-vue'
import { Bell, Checked, DataLine, TrendCharts, Upload } from '@element-plus/icons-vue'
import { useSessionStore } from '@/stores/session'
import { useIsMobile } from '@/composables/useIsMobile'
import type { Permission } from '@/utils/permissions'

export interface MenuEntry {
  key: string
  path: string
  label: string
  icon: Component
  perm: Permission
}

const ENTRIES: Omit<MenuEntry, 'label'>[] = [
  { key: 'households', path: '/households', icon: House, perm: 'registry.read' },
  // the application workflow
  { key: 'cases', path: '/cases', icon: Tickets, perm: 'cases.read' },
  { key: 'emergency', path: '/emergency', icon: FirstAidKit, perm: 'emergency.read' },
  { key: 'referrals', path: '/referrals', icon: Share, perm: 'referrals.read' },
  { key: 'verification', path: '/verification', icon: Connection, perm: 'verification.read' },
  // dynamic monitoring (动态监测): village screening and alerts first, then the county's tools
  { key: 'monitoringScreening', path: '/monitoring/screening', icon: Checked, perm: 'registry.read' },
  { key: 'monitoringAlerts', path: '/monitoring/alerts', icon: Bell, perm: 'registry.read' },
  { key: 'monitoringRuns', path: '/monitoring/runs', icon: DataLine, perm: 'registry.read' },
  { key: 'monitoringFeeds', path: '/monitoring/feeds', icon: Upload, perm: 'feeds.upload' },
  { key: 'monitoringRectification', path: '/monitoring/rectification', icon: TrendCharts, perm: 'registry.read' },
  { key: 'lists', path: '/lists', icon: List, perm: 'lists.manage' },
  { key: 'calendar', path: '/calendar', icon: Calendar, perm: 'calendar.read' },
  { key: 'policy', path: '/policy', icon: Notebook, perm: 'policy.read' },
  { key: 'policySimulate', path: '/policy/simulate', icon: DataAnalysis, perm: 'policy.simulate' },
  { key: 'regions', path: '/regions', icon: MapLocation, perm: 'regions.read' },
  { key: 'users', path: '/users', icon: User, perm: 'users.manage' },
  { key: 'audit', path: '/audit', icon: Document, perm: 'audit.read' },
]

export function useLayout() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()
  const { isMobile } = useIsMobile()
  const drawerOpen = ref(false)

  /** Only the entries the role may use. */
  const menu = computed<MenuEntry[]>(() =>
    ENTRIES.filter((e) => session.can(e.perm)).map((e) => ({ ...e, label: t(`menu.${e.key}`) })),
  )
  const activeMenu = computed(() => route.meta.menu ?? route.path)

  const user = computed(() => session.user)
  const roleLabel = computed(() => (session.user ? t(`role.${session.user.role}`) : ''))

  watch(
    () => route.fullPath,
    () => {
      drawerOpen.value = false
    },
  )
  watch(isMobile, (m) => {
    if (!m) drawerOpen.value = false
  })

  const loggingOut = ref(false)
  async function logout(): Promise<void> {
    loggingOut.value = true
    try {
      await session.logout()
    } catch {
      // The session is cleared locally anyway.
    } finally {
      loggingOut.value = false
    }
    await router.replace({ name: 'login' })
  }

  return { isMobile, drawerOpen, menu, activeMenu, user, roleLabel, logout, loggingOut }
}

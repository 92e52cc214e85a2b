import { createRouter, createWebHistory, type RouteLocationRaw, type RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import type { Permission } from '@/utils/permissions'
import Layout from '@/layout/index.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean
    /** What the role must be allowed to do. */
    perm?: Permission
    /** i18n key of the page title. */
    title?: string
    /** Menu entry highlighted for this page. */
    menu?: string
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/login/index.vue'),
    meta: { public: true, title: 'login.title' },
  },
  // One's own password and second factor; the only page of a session with a pending step.
  {
    path: '/account/security',
    name: 'account-security',
    component: () => import('@/views/account/security.vue'),
    meta: { title: 'account.title' },
  },
  // Public pages for applicants and villagers: no session, outside the staff layout.
  {
    path: '/apply',
    name: 'public-apply',
    component: () => import('@/views/public/apply.vue'),
    meta: { public: true, title: 'publicSite.apply.title' },
  },
  {
    path: '/progress',
    name: 'public-progress',
    component: () => import('@/views/public/progress.vue'),
    meta: { public: true, title: 'publicSite.progress.title' },
  },
  {
    path: '/notice-board',
    name: 'public-notice-board',
    component: () => import('@/views/public/notice-board.vue'),
    meta: { public: true, title: 'publicSite.board.title' },
  },
  {
    path: '/',
    component: Layout,
    children: [
      // A guard, not a `redirect`: redirects resolve before beforeEach has restored the session,
      // so a fresh load of `/` would always land on the regions page.
      { path: '', name: 'home', component: { render: () => null }, beforeEnter: () => firstAllowedPage() },
      {
        path: 'households',
        name: 'households',
        component: () => import('@/views/households/index.vue'),
        meta: { perm: 'registry.read', title: 'menu.households', menu: '/households' },
      },
      {
        path: 'households/new',
        name: 'household-new',
        component: () => import('@/views/households/form.vue'),
        meta: { perm: 'registry.write', title: 'household.form.createTitle', menu: '/households' },
      },
      {
        path: 'households/:id(\\d+)',
        name: 'household-detail',
        component: () => import('@/views/households/detail.vue'),
        meta: { perm: 'registry.read', title: 'household.detail.title', menu: '/households' },
      },
      {
        path: 'households/:id(\\d+)/edit',
        name: 'household-edit',
        component: () => import('@/views/households/form.vue'),
        meta: { perm: 'registry.write', title: 'household.form.editTitle', menu: '/households' },
      },
      {
        path: 'regions',
        name: 'regions',
        component: () => import('@/views/regions/index.vue'),
        meta: { perm: 'regions.read', title: 'menu.regions', menu: '/regions' },
      },
      {
        path: 'users',
        name: 'users',
        component: () => import('@/views/users/index.vue'),
        meta: { perm: 'users.manage', title: 'menu.users', menu: '/users' },
      },
      {
        path: 'audit',
        name: 'audit',
        component: () => import('@/views/audit/index.vue'),
        meta: { perm: 'audit.read', title: 'menu.audit', menu: '/audit' },
      },
      {
        path: 'policy',
        name: 'policy',
        component: () => import('@/views/policy/index.vue'),
        meta: { perm: 'policy.read', title: 'menu.policy', menu: '/policy' },
      },
      {
        path: 'policy/simulate',
        name: 'policy-simulate',
        // Its own chunk, with ECharts: only this page loads the chart library.
        component: () => import('@/views/policy/simulate.vue'),
        meta: { perm: 'policy.simulate', title: 'menu.policySimulate', menu: '/policy/simulate' },
      },
      {
        path: 'cases',
        name: 'cases',
        component: () => import('@/views/cases/index.vue'),
        meta: { perm: 'cases.read', title: 'menu.cases', menu: '/cases' },
      },
      {
        path: 'cases/:id(\\d+)',
        name: 'case-detail',
        component: () => import('@/views/cases/detail.vue'),
        meta: { perm: 'cases.read', title: 'cases.detail.title', menu: '/cases' },
      },
      {
        path: 'emergency',
        name: 'emergency',
        component: () => import('@/views/emergency/index.vue'),
        meta: { perm: 'emergency.read', title: 'menu.emergency', menu: '/emergency' },
      },
      {
        path: 'referrals',
        name: 'referrals',
        component: () => import('@/views/referrals/index.vue'),
        meta: { perm: 'referrals.read', title: 'menu.referrals', menu: '/referrals' },
      },
      {
        path: 'verification',
        name: 'verification',
        component: () => import('@/views/verification/index.vue'),
        meta: { perm: 'verification.read', title: 'menu.verification', menu: '/verification' },
      },
      // dynamic monitoring (动态监测)
      {
        path: 'monitoring/screening',
        name: 'monitoring-screening',
        component: () => import('@/views/monitoring/screening.vue'),
        meta: { perm: 'registry.read', title: 'menu.monitoringScreening', menu: '/monitoring/screening' },
      },
      {
        path: 'monitoring/alerts',
        name: 'monitoring-alerts',
        component: () => import('@/views/monitoring/alerts.vue'),
        meta: { perm: 'registry.read', title: 'menu.monitoringAlerts', menu: '/monitoring/alerts' },
      },
      {
        path: 'monitoring/runs',
        name: 'monitoring-runs',
        component: () => import('@/views/monitoring/runs.vue'),
        meta: { perm: 'registry.read', title: 'menu.monitoringRuns', menu: '/monitoring/runs' },
      },
      {
        path: 'monitoring/feeds',
        name: 'monitoring-feeds',
        component: () => import('@/views/monitoring/feeds.vue'),
        meta: { perm: 'feeds.upload', title: 'menu.monitoringFeeds', menu: '/monitoring/feeds' },
      },
      {
        path: 'monitoring/rectification',
        name: 'monitoring-rectification',
        // Its own chunk, with ECharts.
        component: () => import('@/views/monitoring/rectification.vue'),
        meta: { perm: 'registry.read', title: 'menu.monitoringRectification', menu: '/monitoring/rectification' },
      },
      {
        path: 'lists',
        name: 'lists',
        component: () => import('@/views/lists/index.vue'),
        meta: { perm: 'lists.manage', title: 'menu.lists', menu: '/lists' },
      },
      {
        path: 'calendar',
        name: 'calendar',
        component: () => import('@/views/calendar/index.vue'),
        meta: { perm: 'calendar.read', title: 'menu.calendar', menu: '/calendar' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/error/not-found.vue'),
        meta: { title: 'notFound.title' },
      },
    ],
  },
]

/** The first page of the menu the current role may open. */
export function firstAllowedPage(): RouteLocationRaw {
  const session = useSessionStore()
  // A village assistant's work is the month's visits: they start on 月排查, the households to visit.
  if (session.user?.role === 'village_assistant') return { name: 'monitoring-screening' }
  if (session.can('registry.read')) return { name: 'households' }
  if (session.can('audit.read')) return { name: 'audit' }
  // Department liaisons work from their referrals inbox.
  if (session.can('referrals.act')) return { name: 'referrals' }
  return { name: 'regions' }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  const session = useSessionStore()
  await session.restore()
  if (to.meta.public) {
    if (to.name === 'login' && session.loggedIn)
      return session.pending ? { name: 'account-security' } : firstAllowedPage()
    return true
  }
  if (!session.loggedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  // A password to change or a second factor to enrol comes before everything else.
  if (session.pending && to.name !== 'account-security') return { name: 'account-security' }
  if (to.meta.perm && !session.can(to.meta.perm)) return firstAllowedPage()
  return true
})

import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { ElMessage } from 'element-plus'
import App from './App.vue'
import { router } from './router'
import { i18n } from './locales'
import { configureHttp } from './api/http'
import { useSessionStore } from './stores/session'
import { installElementPlus } from './plugins/element'
import './styles/index.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
installElementPlus(app)

const session = useSessionStore(pinia)
let redirecting = false
configureHttp({
  csrfToken: () => session.csrfToken,
  // The session expired or was revoked: back to the login page, then back to where we were.
  onUnauthenticated: () => {
    const wasLoggedIn = session.loggedIn
    session.clear()
    const current = router.currentRoute.value
    if (redirecting || current.meta.public) return
    redirecting = true
    if (wasLoggedIn) ElMessage.warning(i18n.global.t('error.sessionExpired'))
    void router.replace({ name: 'login', query: { redirect: current.fullPath } }).finally(() => {
      redirecting = false
    })
  },
})

router.afterEach((to) => {
  const product = i18n.global.t('app.shortName')
  document.title = to.meta.title ? `${i18n.global.t(to.meta.title)} - ${product}` : i18n.global.t('app.name')
})

app.use(router)
void router.isReady().then(() => app.mount('#app'))

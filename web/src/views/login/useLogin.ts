import { reactive, ref, useTemplateRef } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import type { FormInstance, FormRules } from 'element-plus'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { firstAllowedPage } from '@/router'

export function useLogin() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()

  const formRef = useTemplateRef<FormInstance>('formRef')
  const form = reactive({ username: '', password: '' })
  const rules: FormRules = {
    username: [{ required: true, message: t('login.usernameRequired'), trigger: 'blur' }],
    password: [{ required: true, message: t('login.passwordRequired'), trigger: 'blur' }],
  }
  const submitting = ref(false)
  const error = ref('')

  function messageFor(e: unknown): string {
    if (!isApiError(e)) return t('error.unexpected')
    switch (e.code) {
      case 'invalid_credentials':
        return t('login.invalidCredentials')
      case 'account_locked':
        return t('login.accountLocked')
      case 'network':
        return t('error.network')
      default:
        return e.message || t('login.failed')
    }
  }

  async function submit(): Promise<void> {
    error.value = ''
    const ok = await formRef.value?.validate().catch(() => false)
    if (!ok) return
    submitting.value = true
    try {
      await session.login(form.username.trim(), form.password)
      const redirect = typeof route.query.redirect === 'string' ? route.query.redirect : ''
      // Only same-app paths: never an open redirect.
      if (redirect.startsWith('/') && !redirect.startsWith('//') && !redirect.startsWith('/login')) {
        await router.replace(redirect)
      } else {
        await router.replace(firstAllowedPage())
      }
    } catch (e) {
      error.value = messageFor(e)
      form.password = ''
    } finally {
      submitting.value = false
    }
  }

  return { form, rules, submitting, error, submit }
}

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
  const form = reactive({ username: '', password: '', totp: '' })
  // The second step: shown when the server answers totp_required (the account has TOTP).
  const needTotp = ref(false)
  const rules: FormRules = {
    username: [{ required: true, message: t('login.usernameRequired'), trigger: 'blur' }],
    password: [{ required: true, message: t('login.passwordRequired'), trigger: 'blur' }],
    totp: [
      {
        validator: (_r, v: string, cb) =>
          cb(needTotp.value && !/^\d{6}$/.test((v ?? '').trim()) ? new Error(t('login.totpRequired')) : undefined),
        trigger: 'blur',
      },
    ],
  }
  const submitting = ref(false)
  const error = ref('')

  function messageFor(e: unknown): string {
    if (!isApiError(e)) return t('error.unexpected')
    switch (e.code) {
      case 'invalid_credentials':
        return needTotp.value && e.field === 'totp_code' ? t('login.invalidTotp') : t('login.invalidCredentials')
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
      await session.login(form.username.trim(), form.password, needTotp.value ? form.totp.trim() : '')
      // A forced password change or a second factor to enrol comes first.
      if (session.pending) {
        await router.replace({ name: 'account-security' })
        return
      }
      const redirect = typeof route.query.redirect === 'string' ? route.query.redirect : ''
      // Only same-app paths: never an open redirect.
      if (redirect.startsWith('/') && !redirect.startsWith('//') && !redirect.startsWith('/login')) {
        await router.replace(redirect)
      } else {
        await router.replace(firstAllowedPage())
      }
    } catch (e) {
      if (isApiError(e) && e.code === 'totp_required') {
        needTotp.value = true  // the password was right: keep it, ask for the code
        return
      }
      error.value = messageFor(e)
      form.totp = ''
      if (!(needTotp.value && isApiError(e) && e.field === 'totp_code')) form.password = ''
    } finally {
      submitting.value = false
    }
  }

  return { form, rules, submitting, error, submit, needTotp }
}

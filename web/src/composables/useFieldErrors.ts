// Maps server errors onto form items.
//
// The server names the offending input with a JSON path (`members[1].citizen_id`,
// `assets.deposits_fen`, `residence_address`). Each el-form-item binds
// `:error="errorOf('<that path>')"`, so the server's Chinese message appears right under the
// input it is about. Errors whose field has no form item (or no field at all) go to `general`,
// shown above the form.
import { nextTick, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { isApiError, writeMayHaveLanded } from '@/api/http'

export function useFieldErrors(isKnownField: (field: string) => boolean, aliases: Record<string, string> = {}) {
  const { t } = useI18n()
  const fields = reactive<Record<string, string>>({})
  const general = ref('')
  const generalCode = ref('')
  /** The general error is of a write that may have been saved all the same (writeMayHaveLanded). */
  const mayHaveLanded = ref(false)

  function normalize(field: string): string {
    // `members.1.citizen_id` → `members[1].citizen_id`, then aliases (e.g. disability → disability.kind).
    let f = field.trim().replace(/\.(\d+)(?=\.|$)/g, '[$1]')
    for (const [from, to] of Object.entries(aliases)) {
      if (f === from) f = to
      else if (f.endsWith(`.${from}`)) f = f.slice(0, f.length - from.length) + to
    }
    return f
  }

  function clear(): void {
    for (const k of Object.keys(fields)) fields[k] = ''
    general.value = ''
    generalCode.value = ''
    mayHaveLanded.value = false
  }

  function errorOf(field: string): string {
    return fields[field] ?? ''
  }

  function clearField(field: string): void {
    if (fields[field]) fields[field] = ''
  }

  /**
   * Shows an error thrown by an api call. Returns true when it was placed under a form item.
   * 409 version_conflict always becomes the general "modified by someone else" message.
   */
  function show(e: unknown): boolean {
    mayHaveLanded.value = false
    if (!isApiError(e)) {
      general.value = t('error.unexpected')
      generalCode.value = 'client'
      return false
    }
    if (e.code === 'version_conflict') {
      general.value = t('error.versionConflict')
      generalCode.value = e.code
      return false
    }
    const field = e.field ? normalize(e.field) : ''
    if (field && isKnownField(field)) {
      fields[field] = e.message
      void nextTick(() => {
        document.querySelector('.el-form-item.is-error')?.scrollIntoView({ block: 'center', behavior: 'smooth' })
      })
      return true
    }
    general.value = e.message
    generalCode.value = e.code
    mayHaveLanded.value = writeMayHaveLanded(e)
    return false
  }

  return { fields, general, generalCode, mayHaveLanded, clear, clearField, errorOf, show }
}

/** Server field paths of PersonInput that have a form item. */
export const PERSON_FIELD =
  /^(citizen_id|name|relation|disability\.kind|disability\.grade|serious_illness|self_care|in_school|employed|has_supporter|monthly_income_fen\.(wage|business|property|transfer|pension|other))$/

/** `disability` alone is shown under the kind selector. */
export const PERSON_ALIASES: Record<string, string> = { disability: 'disability.kind' }

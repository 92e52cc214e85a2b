// Scanned signed pages of an application (docs/api.md § Enrollments and referrals:
// POST /api/v1/applications/{id}/attachments): 授权书, 诚信承诺书 or other, JPG/PNG/PDF up to 700 KB,
// read as base64 in the browser.
import { reactive, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  ATTACHMENT_MAX_BYTES,
  ATTACHMENT_TYPES,
  uploadAttachment,
  type Application,
  type AttachmentKind,
  type AttachmentType,
} from '@/api/applications'
import { useSessionStore } from '@/stores/session'
import { useFieldErrors } from '@/composables/useFieldErrors'

/** data:…;base64,XXXX → XXXX */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => {
      const s = String(reader.result ?? '')
      resolve(s.slice(s.indexOf(',') + 1))
    }
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })
}

export function useAttachments(app: Ref<Application | null>, reload: () => Promise<void> | void) {
  const { t } = useI18n()
  const session = useSessionStore()
  const canUpload = () => session.can('cases.create') || session.can('enrollments.manage')
  const form = reactive({ kind: 'authorization' as AttachmentKind, file: null as File | null })
  const uploading = ref(false)
  const inputKey = ref(0)
  const errors = useFieldErrors((f) => /^(kind|filename|content_type|data_base64)$/.test(f))

  function pick(ev: Event): void {
    errors.clear()
    const f = (ev.target as HTMLInputElement).files?.[0] ?? null
    form.file = null
    if (!f) return
    if (!(ATTACHMENT_TYPES as readonly string[]).includes(f.type)) {
      errors.fields.data_base64 = t('attachments.badType')
      return
    }
    if (f.size > ATTACHMENT_MAX_BYTES) {
      errors.fields.data_base64 = t('attachments.tooLarge')
      return
    }
    form.file = f
  }

  async function upload(): Promise<void> {
    const a = app.value
    errors.clear()
    if (!a) return
    if (!form.file) {
      errors.fields.data_base64 = t('attachments.fileRequired')
      return
    }
    uploading.value = true
    try {
      const data = await readBase64(form.file)
      await uploadAttachment(a.id, {
        kind: form.kind,
        filename: form.file.name,
        content_type: form.file.type as AttachmentType,
        data_base64: data,
      })
      ElMessage.success(t('attachments.uploaded'))
      form.file = null
      inputKey.value++
      await reload()
    } catch (e) {
      errors.show(e)
    } finally {
      uploading.value = false
    }
  }

  return { form, uploading, inputKey, errors, pick, upload, canUpload }
}

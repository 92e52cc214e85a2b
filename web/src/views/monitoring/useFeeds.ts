// 数据导入: a department file (CSV, or Excel converted in the browser) is uploaded for a source
// and a month, imported as a background job, and reported row by row. Below, the import history.
import { computed, onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { listFeeds, uploadFeed, type FeedFile, type FeedReport, type FeedUpload } from '@/api/monitoring'
import { isApiError } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { useSessionStore } from '@/stores/session'
import { bytesToBase64, fileKind, xlsxToCsv } from './spreadsheet'
import { useJob } from './useJob'
import { MONTH_RE, previousMonth, useMonitoringFormat } from './useMonitoringFormat'

/** Largest file accepted (the server's body limit is 64 MiB, base64 adds a third). */
export const MAX_FILE_BYTES = 40 * 1024 * 1024

export type UploadPhase = 'idle' | 'reading' | 'uploading' | 'importing' | 'done' | 'failed'

export function useFeeds() {
  const { t } = useI18n()
  const session = useSessionStore()
  const fmt = useMonitoringFormat()

  // ---- form ----
  const form = reactive({ source: '', month: previousMonth() })
  const file = ref<File | null>(null)
  const fileInputKey = ref(0)
  const errors = useFieldErrors((f) => ['source', 'month', 'csv_text', 'content_base64', 'file'].includes(f), {
    csv_text: 'file',
    content_base64: 'file',
  })
  const chosenSource = computed(() => fmt.sources.value.find((s) => s.kind === form.source) ?? null)

  function onFileChange(e: Event): void {
    const input = e.target as HTMLInputElement
    file.value = input.files?.[0] ?? null
    errors.clearField('file')
  }

  function validate(): boolean {
    errors.clear()
    let ok = true
    if (!form.source) {
      errors.fields.source = t('monitoring.feeds.sourceRequired')
      ok = false
    }
    if (!MONTH_RE.test(form.month ?? '')) {
      errors.fields.month = t('monitoring.monthRequired')
      ok = false
    }
    const f = file.value
    if (!f) {
      errors.fields.file = t('monitoring.feeds.fileRequired')
      ok = false
    } else if (fileKind(f.name) === 'unknown') {
      errors.fields.file = t('monitoring.feeds.fileType')
      ok = false
    } else if (f.size === 0) {
      errors.fields.file = t('monitoring.feeds.fileEmpty')
      ok = false
    } else if (f.size > MAX_FILE_BYTES) {
      errors.fields.file = t('monitoring.feeds.fileTooLarge', { mb: MAX_FILE_BYTES / 1024 / 1024 })
      ok = false
    }
    return ok
  }

  // ---- upload and import ----
  const phase = ref<UploadPhase>('idle')
  const uploadPercent = ref(0)
  const uploadBytes = ref(0)
  const { job, percent: jobPercent, pollError, follow, reset: resetJob } = useJob<FeedReport>()
  const report = ref<FeedReport | null>(null)
  const failure = ref('')
  const busy = computed(() => ['reading', 'uploading', 'importing'].includes(phase.value))
  /** The upload bar is worth showing only for files that take a moment to send. */
  const showUploadProgress = computed(() => phase.value === 'uploading' && uploadBytes.value > 256 * 1024)

  async function buildBody(f: File): Promise<FeedUpload> {
    const base = { source: form.source, month: form.month, filename: f.name }
    const bytes = await f.arrayBuffer()
    if (fileKind(f.name) === 'csv') return { ...base, content_base64: bytesToBase64(new Uint8Array(bytes)) }
    let csv: string
    try {
      csv = await xlsxToCsv(bytes)
    } catch {
      throw new Error(t('monitoring.feeds.excelUnreadable'))
    }
    if (!csv.trim()) throw new Error(t('monitoring.feeds.excelEmpty'))
    return { ...base, csv_text: csv }
  }

  async function submit(): Promise<void> {
    if (busy.value || !validate() || !file.value) return
    report.value = null
    failure.value = ''
    resetJob()
    phase.value = 'reading'
    let body: FeedUpload
    try {
      body = await buildBody(file.value)
    } catch (e) {
      phase.value = 'failed'
      errors.fields.file = e instanceof Error ? e.message : t('error.unexpected')
      return
    }
    phase.value = 'uploading'
    uploadPercent.value = 0
    uploadBytes.value = (body.csv_text?.length ?? 0) + (body.content_base64?.length ?? 0)
    let started
    try {
      started = await uploadFeed(body, session.csrfToken, (loaded, total) => {
        uploadPercent.value = total ? Math.floor((loaded * 100) / total) : 0
      })
    } catch (e) {
      phase.value = 'failed'
      if (isApiError(e) && e.code === 'conflict') failure.value = t('monitoring.feeds.busy')
      else if (!errors.show(e)) failure.value = errors.general.value
      errors.general.value = ''
      return
    }
    uploadPercent.value = 100
    phase.value = 'importing'
    const final = await follow(started)
    if (final?.status === 'done' && final.result) {
      report.value = final.result
      phase.value = 'done'
      if (final.result.already_imported) ElMessage.info(t('monitoring.feeds.alreadyImported'))
      else ElMessage.success(t('monitoring.feeds.importedMessage', { n: final.result.imported }))
      file.value = null
      fileInputKey.value++
      history.search()
    } else {
      phase.value = 'failed'
      const err = final?.error
      if (err) {
        if (err.field && ['source', 'month', 'file'].includes(err.field)) errors.fields[err.field] = err.message
        failure.value = err.message || t('monitoring.job.failedUnknown')
      } else {
        failure.value = pollError.value || t('monitoring.job.failedUnknown')
      }
    }
  }

  // ---- history ----
  const history = usePagedList<FeedFile>(listFeeds, { pageSize: 10 })

  onMounted(async () => {
    void history.load()
    await fmt.loadSources()
    if (!form.source && fmt.sources.value[0]) form.source = fmt.sources.value[0].kind
  })

  return {
    fmt,
    form,
    file,
    fileInputKey,
    errors,
    chosenSource,
    onFileChange,
    phase,
    busy,
    uploadPercent,
    showUploadProgress,
    job,
    jobPercent,
    report,
    failure,
    submit,
    history,
  }
}

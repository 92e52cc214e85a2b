// 数据导入: a department file (CSV, or Excel converted in the browser) is uploaded for a source
// and a month, imported as a background job, and reported row by row. Below, the import history.
import { computed, onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { listFeeds, uploadFeed, type FeedFile, type FeedReport, type FeedUpload, type Job } from '@/api/monitoring'
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

type Translate = ReturnType<typeof useI18n>['t']

/** Why the chosen file cannot be imported (none, not CSV or Excel, empty, too large), or ''. */
function fileProblem(t: Translate, f: File | null): string {
  if (!f) return t('monitoring.feeds.fileRequired')
  if (fileKind(f.name) === 'unknown') return t('monitoring.feeds.fileType')
  if (f.size === 0) return t('monitoring.feeds.fileEmpty')
  if (f.size > MAX_FILE_BYTES) return t('monitoring.feeds.fileTooLarge', { mb: MAX_FILE_BYTES / 1024 / 1024 })
  return ''
}

/** The upload's body: a CSV file as its bytes (base64), an Excel file converted to CSV text. */
async function feedBody(t: Translate, f: File, source: string, month: string): Promise<FeedUpload> {
  const base = { source, month, filename: f.name }
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

/**
 * Why an import failed: the job's error (`field` when it names one of the form's fields, where
 * `message` goes), else the polling problem; `text` for above the form.
 */
function importFailure(t: Translate, final: Job<FeedReport> | null, pollError: string) {
  const err = final?.error
  const unknown = t('monitoring.job.failedUnknown')
  if (!err) return { field: '', message: '', text: pollError || unknown }
  const field = err.field && ['source', 'month', 'file'].includes(err.field) ? err.field : ''
  return { field, message: err.message, text: err.message || unknown }
}

/** The form: a source, a month and the file to import. */
function useFeedForm(fmt: ReturnType<typeof useMonitoringFormat>) {
  const { t } = useI18n()
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
    const monthOk = MONTH_RE.test(form.month ?? '')
    const problem = fileProblem(t, file.value)
    if (!form.source) errors.fields.source = t('monitoring.feeds.sourceRequired')
    if (!monthOk) errors.fields.month = t('monitoring.monthRequired')
    if (problem) errors.fields.file = problem
    return !!form.source && monthOk && !problem
  }

  /** After an import the file input is emptied for the next file. */
  function clearFile(): void {
    file.value = null
    fileInputKey.value++
  }

  return { form, file, fileInputKey, errors, chosenSource, onFileChange, validate, clearFile }
}

type FeedForm = ReturnType<typeof useFeedForm>

/** Upload of the form's file and its import as a background job: the phase, progress and report. */
function useFeedImport({ form, file, errors, validate, clearFile }: FeedForm, imported: () => void) {
  const { t } = useI18n()
  const session = useSessionStore()
  const phase = ref<UploadPhase>('idle')
  const uploadPercent = ref(0)
  const uploadBytes = ref(0)
  const { job, percent: jobPercent, pollError, follow, reset: resetJob } = useJob<FeedReport>()
  const report = ref<FeedReport | null>(null)
  const failure = ref('')
  const busy = computed(() => ['reading', 'uploading', 'importing'].includes(phase.value))
  /** The upload bar is worth showing only for files that take a moment to send. */
  const showUploadProgress = computed(() => phase.value === 'uploading' && uploadBytes.value > 256 * 1024)

  /** Reads the file into a body; null (the error shown at the file) when it cannot be read. */
  async function read(f: File): Promise<FeedUpload | null> {
    phase.value = 'reading'
    try {
      return await feedBody(t, f, form.source, form.month)
    } catch (e) {
      phase.value = 'failed'
      errors.fields.file = e instanceof Error ? e.message : t('error.unexpected')
      return null
    }
  }

  /** Sends the body; the import job it started, or null (the failure shown) when refused. */
  async function upload(body: FeedUpload): Promise<Job<FeedReport> | null> {
    phase.value = 'uploading'
    uploadPercent.value = 0
    uploadBytes.value = (body.csv_text?.length ?? 0) + (body.content_base64?.length ?? 0)
    try {
      const started = await uploadFeed(body, session.csrfToken, (loaded, total) => {
        uploadPercent.value = total ? Math.floor((loaded * 100) / total) : 0
      })
      uploadPercent.value = 100
      return started
    } catch (e) {
      phase.value = 'failed'
      if (isApiError(e) && e.code === 'conflict') failure.value = t('monitoring.feeds.busy')
      else if (!errors.show(e)) failure.value = errors.general.value
      errors.general.value = ''
      return null
    }
  }

  /** The job's end: its report, or its error (at the field it names, and above the form). */
  function finish(final: Job<FeedReport> | null): void {
    if (final?.status === 'done' && final.result) {
      report.value = final.result
      phase.value = 'done'
      if (final.result.already_imported) ElMessage.info(t('monitoring.feeds.alreadyImported'))
      else ElMessage.success(t('monitoring.feeds.importedMessage', { n: final.result.imported }))
      clearFile()
      imported()
      return
    }
    phase.value = 'failed'
    const err = importFailure(t, final, pollError.value)
    if (err.field) errors.fields[err.field] = err.message
    failure.value = err.text
  }

  async function submit(): Promise<void> {
    if (busy.value || !validate() || !file.value) return
    report.value = null
    failure.value = ''
    resetJob()
    const body = await read(file.value)
    if (!body) return
    const started = await upload(body)
    if (!started) return
    phase.value = 'importing'
    finish(await follow(started))
  }

  return { phase, busy, uploadPercent, showUploadProgress, job, jobPercent, report, failure, submit }
}

export function useFeeds() {
  const fmt = useMonitoringFormat()
  const feedForm = useFeedForm(fmt)
  const { form, file, fileInputKey, errors, chosenSource, onFileChange } = feedForm
  const history = usePagedList<FeedFile>(listFeeds, { pageSize: 10 })
  const feedImport = useFeedImport(feedForm, () => history.search())

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
    ...feedImport,
    history,
  }
}

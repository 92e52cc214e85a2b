// Follows a background job (GET /api/v1/jobs/{id}) every ~500 ms until it is done or failed.
// Polling stops when the page is left.
import { computed, onBeforeUnmount, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { getJob, type Job } from '@/api/monitoring'
import { isApiError } from '@/api/http'

export const POLL_MS = 500

export function useJob<R>() {
  const { t } = useI18n()
  const job = ref<Job<R> | null>(null)
  /** A polling problem (network, job expired), not the job's own error. */
  const pollError = ref('')
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false
  let failures = 0

  const running = computed(() => job.value?.status === 'running')
  const percent = computed(() => {
    const j = job.value
    if (!j) return 0
    if (j.status === 'done') return 100
    if (!j.total) return 0
    return Math.min(99, Math.floor((j.done * 100) / j.total))
  })

  function stop(): void {
    if (timer) clearTimeout(timer)
    timer = null
  }

  /** Follows `started` to its end; resolves with the final job (or null when polling gave up). */
  function follow(started: Job<R>): Promise<Job<R> | null> {
    stop()
    job.value = started
    pollError.value = ''
    failures = 0
    return new Promise((resolve) => {
      const tick = async () => {
        if (stopped) return resolve(null)
        try {
          const j = await getJob<R>(started.id)
          failures = 0
          job.value = j
          if (j.status !== 'running') return resolve(j)
        } catch (e) {
          // A lost job (404) or a refused read ends polling; a network hiccup is retried a few times.
          if (isApiError(e) && (e.status === 404 || e.status === 403 || e.status === 401) || ++failures > 5) {
            pollError.value = isApiError(e) ? e.message : t('error.unexpected')
            return resolve(null)
          }
        }
        timer = setTimeout(tick, POLL_MS)
      }
      if (started.status !== 'running') return resolve(started)
      timer = setTimeout(tick, POLL_MS)
    })
  }

  function reset(): void {
    stop()
    job.value = null
    pollError.value = ''
  }

  onBeforeUnmount(() => {
    stopped = true
    stop()
  })

  return { job, running, percent, pollError, follow, reset }
}

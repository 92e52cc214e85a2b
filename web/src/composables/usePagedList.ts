// One server-paged list: the rows of the current page, the total, the page and its size, the
// loading flag and the Chinese error text of the last failed load. Filters stay with the page
// (the fetch function reads them); `search()` goes back to page 1 after a filter change.
//
// An answer that arrives after a newer request was sent is dropped, so a slow page cannot
// overwrite a faster later one.
import { reactive, ref, type Ref } from 'vue'
import { apiErrorMessage, type Page } from '@/api/http'

export const PAGE_SIZES = [10, 20, 50, 100]

export interface PagedListOptions<R> {
  /** Rows per page at first (default 20). */
  pageSize?: number
  /** Empty the list when a load fails (default: the last page stays shown under the error). */
  clearOnError?: boolean
  /** Loads only while this holds (e.g. a valid month is chosen). */
  when?: () => boolean
  /** Sees each current answer (e.g. a summary sent beside the items). */
  onLoaded?: (res: R) => void
  /**
   * What a page or page-size change does once page/pageSize are set (default: load). Lists kept
   * in the URL query put them there instead and load from the route watcher.
   */
  onPaging?: () => void
}

export function usePagedList<T, R extends Page<T> = Page<T>>(
  fetch: (q: { page: number; page_size: number }) => Promise<R>,
  opts: PagedListOptions<R> = {},
) {
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(opts.pageSize ?? 20)
  const loading = ref(false)
  const error = ref('')
  let request = 0

  async function load(): Promise<void> {
    if (opts.when && !opts.when()) return
    const mine = ++request
    loading.value = true
    error.value = ''
    try {
      const res = await fetch({ page: page.value, page_size: pageSize.value })
      if (mine !== request) return
      rows.value = res.items
      total.value = res.total
      opts.onLoaded?.(res)
    } catch (e) {
      if (mine !== request) return
      if (opts.clearOnError) {
        rows.value = []
        total.value = 0
      }
      error.value = apiErrorMessage(e)
    } finally {
      if (mine === request) loading.value = false
    }
  }

  const paged = (): void => (opts.onPaging ? opts.onPaging() : void load())

  /** Back to page 1 and load (after a filter change). */
  function search(): void {
    page.value = 1
    void load()
  }
  function onPageChange(p: number): void {
    page.value = p
    paged()
  }
  function onSizeChange(s: number): void {
    pageSize.value = s
    page.value = 1
    paged()
  }

  return reactive({ rows, total, page, pageSize, loading, error, load, search, onPageChange, onSizeChange })
}

export type PagedList<T> = ReturnType<typeof usePagedList<T>>

// A server-paged list whose filters, page and page size live in the URL query, so that "back"
// from a detail page returns to the same page of results. The route watcher loads; changing a
// filter or the page writes the query (the same query again reloads at once).
import { watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import type { Page } from '@/api/http'
import { PAGE_SIZES, usePagedList } from './usePagedList'

/** A query value as one string ('' when absent or repeated). */
export function queryString(v: LocationQuery[string]): string {
  return typeof v === 'string' ? v : ''
}

function positiveInt(v: LocationQuery[string], fallback: number): number {
  const n = Number(queryString(v))
  return Number.isInteger(n) && n > 0 ? n : fallback
}

const DEFAULT_SIZE = 20

export function useQueryPagedList<T>(
  /** The list loads only while this route is shown. */
  routeName: string,
  fetch: (q: { page: number; page_size: number }) => Promise<Page<T>>,
  filtersQuery: {
    /** Sets the filters from the query. */
    read: (q: LocationQuery) => void
    /** The query entries of the filters that differ from their defaults. */
    write: () => Record<string, string>
  },
) {
  const route = useRoute()
  const router = useRouter()
  const list = usePagedList<T>(fetch, { clearOnError: true, onPaging: apply })

  function currentQuery(): Record<string, string> {
    const q = filtersQuery.write()
    if (list.page > 1) q.page = String(list.page)
    if (list.pageSize !== DEFAULT_SIZE) q.size = String(list.pageSize)
    return q
  }

  /** Puts the filters and page into the URL; the route watcher then loads. Same query → reload now. */
  function apply(): void {
    const next = currentQuery()
    if (JSON.stringify(next) === JSON.stringify(route.query)) void list.load()
    else void router.replace({ query: next })
  }

  /** Back to page 1 with the current filters. */
  function search(): void {
    list.page = 1
    apply()
  }

  watch(
    () => route.query,
    (q) => {
      if (route.name !== routeName) return
      filtersQuery.read(q)
      list.page = positiveInt(q.page, 1)
      const size = positiveInt(q.size, DEFAULT_SIZE)
      list.pageSize = PAGE_SIZES.includes(size) ? size : DEFAULT_SIZE
      void list.load()
    },
    { immediate: true },
  )

  return { list, search }
}

import type { Job, JobListQuery } from '@roam/client';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type RowSelectionState,
  useReactTable,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';

import { formatTime, STATUSES, TERMINAL_STATUSES } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

/** Rows asked of the server at a time; the table only renders the rows in view. */
const PAGE_SIZE = 200;
const ROW_HEIGHT = 37;

interface Filters {
  status: string;
  queue: string;
  labels: string;
  group: string;
  array: string;
  since: string;
  until: string;
}

const NO_FILTERS: Filters = {
  status: '',
  queue: '',
  labels: '',
  group: '',
  array: '',
  since: '',
  until: '',
};

/** `/jobs?group=sweep` or `/jobs?array=<id>`: the arrays and groups pages link here. */
function filtersFromUrl(): Filters {
  const params = new URLSearchParams(window.location.search);
  return { ...NO_FILTERS, group: params.get('group') ?? '', array: params.get('array') ?? '' };
}

/** A `datetime-local` value (the browser's zone) as the API's ISO instant. */
const instant = (local: string): string | undefined =>
  local ? new Date(local).toISOString() : undefined;

function queryOf(filters: Filters, cursor: string | undefined): JobListQuery {
  const query: JobListQuery = { limit: PAGE_SIZE };
  if (filters.status) query.status = filters.status;
  if (filters.queue) query.queue = filters.queue;
  if (filters.labels) query.labelSelector = filters.labels;
  if (filters.group) query.group = filters.group;
  if (filters.array) query.array = filters.array;
  const since = instant(filters.since);
  const until = instant(filters.until);
  if (since) query.created_since = since;
  if (until) query.created_until = until;
  if (cursor) query.cursor = cursor;
  return query;
}

/**
 * The tenant's jobs, newest first: server pages of 200 (keyset cursors, so a page stays cheap
 * at any number of jobs) fetched as the table scrolls, and only the rows in view rendered, so
 * 100,000 jobs scroll like 100. Filtered on the server; live through the event feed.
 */
export function JobsPage() {
  const { client } = useSession();
  const queries = useQueryClient();
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [draft, setDraft] = useState<Filters>(filters);
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [notice, setNotice] = useState<string | null>(null);

  const pages = useInfiniteQuery({
    queryKey: ['jobs', filters],
    queryFn: ({ pageParam }) => client.listJobs(queryOf(filters, pageParam)),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const jobs = useMemo(() => pages.data?.pages.flatMap((page) => page.items) ?? [], [pages.data]);

  const groups = useQuery({
    queryKey: ['groups', 'names'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/groups', { params: { query: { limit: 100 } } });
      return result.data?.items.map((group) => group.name) ?? [];
    },
  });

  const columns = useMemo<ColumnDef<Job>[]>(
    () => [
      {
        id: 'select',
        header: ({ table }) => (
          <input
            type="checkbox"
            aria-label="Select every loaded job"
            checked={table.getIsAllRowsSelected()}
            onChange={table.getToggleAllRowsSelectedHandler()}
          />
        ),
        cell: ({ row }) => (
          <input
            type="checkbox"
            aria-label={`Select job ${row.original.name}`}
            checked={row.getIsSelected()}
            disabled={!row.getCanSelect()}
            onChange={row.getToggleSelectedHandler()}
          />
        ),
      },
      {
        header: 'Name',
        accessorKey: 'name',
        cell: ({ row }) => <Link to={`/jobs/${row.original.id}`}>{row.original.name}</Link>,
      },
      {
        header: 'Status',
        accessorKey: 'status',
        cell: ({ row }) => (
          <span className={`status status-${row.original.status}`}>{row.original.status}</span>
        ),
      },
      { header: 'Phase', accessorKey: 'phase' },
      { header: 'Queue', accessorKey: 'queue' },
      {
        header: 'Group',
        accessorKey: 'group',
        cell: ({ row }) =>
          row.original.group ? (
            <Link to={`/groups/${encodeURIComponent(row.original.group)}`}>
              {row.original.group}
            </Link>
          ) : (
            '—'
          ),
      },
      {
        header: 'Array',
        id: 'array',
        cell: ({ row }) =>
          row.original.array ? (
            <Link to={`/arrays/${row.original.array.id}`}>#{row.original.array.index}</Link>
          ) : (
            '—'
          ),
      },
      { header: 'Attempt', accessorKey: 'attempt' },
      {
        header: 'Submitted',
        accessorKey: 'created_at',
        cell: ({ row }) => formatTime(row.original.created_at),
      },
    ],
    [],
  );

  const table = useReactTable({
    data: jobs,
    columns,
    getRowId: (job) => job.id,
    getCoreRowModel: getCoreRowModel(),
    enableRowSelection: (row) =>
      !(TERMINAL_STATUSES as readonly string[]).includes(row.original.status),
    state: { rowSelection: selection },
    onRowSelectionChange: setSelection,
  });
  const rows = table.getRowModel().rows;

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
  });
  const items = virtual.getVirtualItems();
  const lastInView = items.at(-1)?.index ?? -1;
  // The next server page is asked for as the last loaded rows come into view.
  useEffect(() => {
    if (lastInView >= rows.length - 20 && pages.hasNextPage && !pages.isFetchingNextPage)
      void pages.fetchNextPage();
  }, [lastInView, rows.length, pages]);
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length > 0 ? virtual.getTotalSize() - items.at(-1)!.end : 0;

  const selected = Object.keys(selection).filter((id) => selection[id]);
  const cancelSelected = async () => {
    setNotice(`Cancelling ${selected.length} job(s)…`);
    const outcomes = await Promise.allSettled(selected.map((id) => client.cancelJob(id)));
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    setNotice(
      failed.length === 0
        ? `Cancelled ${selected.length} job(s).`
        : `Cancelled ${selected.length - failed.length}; ${failed.length} failed: ${describeError(failed[0]!.reason)}`,
    );
    setSelection({});
    await queries.invalidateQueries({ queryKey: ['jobs'] });
  };

  const apply = (next: Filters) => {
    const trimmed = { ...next };
    for (const name of Object.keys(trimmed) as (keyof Filters)[])
      trimmed[name] = trimmed[name].trim();
    setDraft(trimmed);
    setFilters(trimmed);
    setSelection({});
    scroller.current?.scrollTo({ top: 0 });
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    apply(draft);
  };
  const field = (name: keyof Filters) => ({
    id: `${name}-filter`,
    value: draft[name],
    onChange: (event: { target: { value: string } }) =>
      setDraft({ ...draft, [name]: event.target.value }),
  });

  const loaded = jobs.length;
  return (
    <>
      <h1>Jobs</h1>
      <form className="filters" onSubmit={onSubmit} aria-label="Filter jobs">
        <label htmlFor="status-filter">Status</label>
        <select
          {...field('status')}
          onChange={(event) => apply({ ...draft, status: event.target.value })}
        >
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor="queue-filter">Queue</label>
        <input {...field('queue')} maxLength={63} placeholder="any" />
        <label htmlFor="labels-filter">Labels</label>
        <input {...field('labels')} maxLength={1000} placeholder="team=web,tier in (a,b)" />
        <label htmlFor="group-filter">Group</label>
        <input {...field('group')} maxLength={63} list="group-names" placeholder="any" />
        <datalist id="group-names">
          {groups.data?.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <label htmlFor="array-filter">Array id</label>
        <input {...field('array')} maxLength={36} placeholder="any" />
        <label htmlFor="since-filter">Submitted from</label>
        <input {...field('since')} type="datetime-local" />
        <label htmlFor="until-filter">until</label>
        <input {...field('until')} type="datetime-local" />
        <button type="submit">Apply</button>
        <button type="button" onClick={() => apply(NO_FILTERS)}>
          Clear
        </button>
      </form>

      <div className="toolbar">
        <button
          type="button"
          disabled={selected.length === 0}
          onClick={() => void cancelSelected()}
        >
          Cancel selected ({selected.length})
        </button>
        <span role="status" className="notice">
          {notice}
        </span>
        <span className="count" data-testid="loaded">
          {loaded} job(s) loaded{pages.hasNextPage ? ', more as you scroll' : ''}
        </span>
      </div>

      {pages.error ? (
        <p role="alert" className="error">
          {describeError(pages.error)}
        </p>
      ) : null}

      <div
        className="grid-scroll"
        ref={scroller}
        tabIndex={0}
        role="region"
        aria-label="Jobs, scrollable"
        data-testid="jobs-scroll"
      >
        <table className="grid" aria-busy={pages.isFetching} aria-rowcount={rows.length + 1}>
          <caption className="visually-hidden">Your jobs, newest first</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id} aria-rowindex={1}>
                {group.headers.map((header) => (
                  <th key={header.id} scope="col">
                    {flexRender(header.column.columnDef.header, header.getContext())}
                  </th>
                ))}
              </tr>
            ))}
          </thead>
          <tbody>
            {padTop > 0 ? (
              <tr aria-hidden="true" style={{ height: padTop }}>
                <td colSpan={columns.length} />
              </tr>
            ) : null}
            {items.map((item) => {
              const row = rows[item.index]!;
              return (
                <tr
                  key={row.id}
                  data-job-id={row.id}
                  aria-rowindex={item.index + 2}
                  style={{ height: ROW_HEIGHT }}
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              );
            })}
            {padBottom > 0 ? (
              <tr aria-hidden="true" style={{ height: padBottom }}>
                <td colSpan={columns.length} />
              </tr>
            ) : null}
            {pages.data && loaded === 0 ? (
              <tr>
                <td colSpan={columns.length}>No jobs match.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </>
  );
}

import type { Job } from '@roam/client';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type RowSelectionState,
  useReactTable,
} from '@tanstack/react-table';
import { type FormEvent, useMemo, useState } from 'react';

import { formatTime, STATUSES, TERMINAL_STATUSES } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

const PAGE_SIZE = 50;

/**
 * The tenant's jobs, one server page at a time (keyset cursors, so a page stays cheap at any
 * number of jobs), filtered by status and queue on the server; live through the event feed.
 */
export function JobsPage() {
  const { client } = useSession();
  const queries = useQueryClient();
  const [status, setStatus] = useState('');
  const [queue, setQueue] = useState('');
  const [queueInput, setQueueInput] = useState('');
  const [labels, setLabels] = useState('');
  const [labelsInput, setLabelsInput] = useState('');
  // Cursors of the pages before this one, so Previous needs no offset.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [notice, setNotice] = useState<string | null>(null);

  const page = useQuery({
    queryKey: ['jobs', { status, queue, labels, cursor }],
    queryFn: () =>
      client.listJobs({
        limit: PAGE_SIZE,
        ...(status ? { status } : {}),
        ...(queue ? { queue } : {}),
        ...(labels ? { labelSelector: labels } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const resetPaging = () => {
    setCursors([undefined]);
    setSelection({});
  };

  const columns = useMemo<ColumnDef<Job>[]>(
    () => [
      {
        id: 'select',
        header: ({ table }) => (
          <input
            type="checkbox"
            aria-label="Select every job on this page"
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
    data: page.data?.items ?? [],
    columns,
    getRowId: (job) => job.id,
    getCoreRowModel: getCoreRowModel(),
    enableRowSelection: (row) =>
      !(TERMINAL_STATUSES as readonly string[]).includes(row.original.status),
    state: { rowSelection: selection },
    onRowSelectionChange: setSelection,
  });

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

  const applyQueue = (event: FormEvent) => {
    event.preventDefault();
    setQueue(queueInput.trim());
    setLabels(labelsInput.trim());
    resetPaging();
  };

  return (
    <>
      <h1>Jobs</h1>
      <form className="filters" onSubmit={applyQueue} aria-label="Filter jobs">
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value);
            resetPaging();
          }}
        >
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor="queue-filter">Queue</label>
        <input
          id="queue-filter"
          value={queueInput}
          onChange={(event) => setQueueInput(event.target.value)}
          placeholder="any"
        />
        <label htmlFor="labels-filter">Labels</label>
        <input
          id="labels-filter"
          value={labelsInput}
          maxLength={1000}
          onChange={(event) => setLabelsInput(event.target.value)}
          placeholder="team=web,tier in (a,b)"
        />
        <button type="submit">Apply</button>
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
      </div>

      {page.error ? (
        <p role="alert" className="error">
          {describeError(page.error)}
        </p>
      ) : null}

      <table className="grid" aria-busy={page.isFetching}>
        <caption className="visually-hidden">Your jobs, newest first</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id} scope="col">
                  {flexRender(header.column.columnDef.header, header.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-job-id={row.id}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
          {page.data && page.data.items.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>No jobs match.</td>
            </tr>
          ) : null}
        </tbody>
      </table>

      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          disabled={cursors.length <= 1}
          onClick={() => {
            setCursors(cursors.slice(0, -1));
            setSelection({});
          }}
        >
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page.data?.next_cursor}
          onClick={() => {
            setCursors([...cursors, page.data!.next_cursor!]);
            setSelection({});
          }}
        >
          Next page
        </button>
      </nav>
    </>
  );
}

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { PhaseBar } from '../components/PhaseBar.js';
import { formatTime } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

/** The tenant's job groups by name, each with its progress; live through the event feed. */
export function GroupsPage() {
  const { client } = useSession();
  const groups = useInfiniteQuery({
    queryKey: ['groups', 'list'],
    queryFn: async ({ pageParam }) => {
      const result = await client.api.GET('/api/v1/groups', {
        params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
      });
      if (!result.data) throw new Error('could not list groups');
      return result.data;
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = groups.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <h1>Groups</h1>
      <p>
        Jobs that name the same <code>group</code> in their spec. Array elements count in their
        array&apos;s group too.
      </p>
      {groups.error ? (
        <p role="alert" className="error">
          {describeError(groups.error)}
        </p>
      ) : null}
      {groups.data && items.length === 0 ? <p>No groups yet.</p> : null}
      <ul className="cards" aria-label="Groups">
        {items.map((group) => (
          <li key={group.name} className="card" data-group={group.name}>
            <h2>
              <Link to={`/groups/${encodeURIComponent(group.name)}`}>{group.name}</Link>
            </h2>
            <PhaseBar label={`Group ${group.name}`} counts={group.counts} total={group.total} />
            <p>
              {group.finished} of {group.total} finished
              {group.done ? `, done ${formatTime(group.finished_at)}` : ''} ·{' '}
              <Link to={`/jobs?group=${encodeURIComponent(group.name)}`}>its jobs</Link>
            </p>
          </li>
        ))}
      </ul>
      {groups.hasNextPage ? (
        <button type="button" onClick={() => void groups.fetchNextPage()}>
          More groups
        </button>
      ) : null}
    </>
  );
}

/** One group: its counters (one row, whatever its size) and cancel-all. */
export function GroupPage(props: { name: string }) {
  const { client } = useSession();
  const group = useQuery({
    queryKey: ['groups', 'one', props.name],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/groups/{name}', {
        params: { path: { name: props.name } },
      });
      if (!result.data) throw new Error(`no group ${props.name}`);
      return result.data;
    },
  });
  return (
    <>
      <h1>Group {props.name}</h1>
      {group.error ? (
        <p role="alert" className="error">
          {describeError(group.error)}
        </p>
      ) : null}
      {group.data ? (
        <>
          <PhaseBar
            label={`Group ${props.name}`}
            counts={group.data.counts}
            total={group.data.total}
          />
          <dl className="facts" data-testid="group-summary">
            <dt>Jobs</dt>
            <dd>{group.data.total}</dd>
            <dt>Pending</dt>
            <dd>{group.data.pending}</dd>
            <dt>Running</dt>
            <dd>{group.data.running}</dd>
            <dt>Finished</dt>
            <dd>{group.data.finished}</dd>
            <dt>Created</dt>
            <dd>{formatTime(group.data.created_at)}</dd>
            <dt>Done</dt>
            <dd>{group.data.done ? formatTime(group.data.finished_at) : 'not yet'}</dd>
          </dl>
          <p>
            <Link to={`/jobs?group=${encodeURIComponent(props.name)}`}>The group&apos;s jobs</Link>{' '}
            · <Link to="/groups">All groups</Link>
          </p>
        </>
      ) : null}
    </>
  );
}

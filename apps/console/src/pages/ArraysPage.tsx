import { useInfiniteQuery } from '@tanstack/react-query';

import { PhaseBar } from '../components/PhaseBar.js';
import { formatTime } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

/** The tenant's job arrays, newest first, each with its progress; live through the event feed. */
export function ArraysPage() {
  const { client } = useSession();
  const arrays = useInfiniteQuery({
    queryKey: ['arrays', 'list'],
    queryFn: async ({ pageParam }) => {
      const result = await client.api.GET('/api/v1/arrays', {
        params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
      });
      if (!result.data) throw new Error('could not list arrays');
      return result.data;
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = arrays.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <h1>Arrays</h1>
      <p>
        One spec run as many elements (<code>array</code> in a JobSpec), newest first.
      </p>
      {arrays.error ? (
        <p role="alert" className="error">
          {describeError(arrays.error)}
        </p>
      ) : null}
      {arrays.data && items.length === 0 ? <p>No arrays yet.</p> : null}
      <ul className="cards" aria-label="Arrays">
        {items.map((array) => (
          <li key={array.id} className="card" data-array={array.id}>
            <h2>
              <Link to={`/arrays/${array.id}`}>{array.name}</Link>
            </h2>
            <PhaseBar label={`Array ${array.name}`} counts={array.counts} total={array.size} />
            <p>
              {array.finished} of {array.size} finished, submitted {formatTime(array.created_at)}
              {array.done ? `, done ${formatTime(array.finished_at)}` : ''} ·{' '}
              <Link to={`/jobs?array=${array.id}`}>its elements</Link>
            </p>
          </li>
        ))}
      </ul>
      {arrays.hasNextPage ? (
        <button type="button" onClick={() => void arrays.fetchNextPage()}>
          More arrays
        </button>
      ) : null}
    </>
  );
}

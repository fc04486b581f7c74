import { useQuery } from '@tanstack/react-query';

import { PhaseBar } from '../components/PhaseBar.js';
import { formatTime } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

/** One job array: progress per phase, read from its counters; live through the event feed. */
export function ArrayPage(props: { id: string }) {
  const { client } = useSession();
  const array = useQuery({
    queryKey: ['arrays', props.id],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/arrays/{id}', {
        params: { path: { id: props.id } },
      });
      if (!result.data) throw new Error(`no array ${props.id}`);
      return result.data;
    },
  });
  const data = array.data;
  return (
    <>
      <h1>Array {data?.name ?? props.id}</h1>
      {array.error ? (
        <p role="alert" className="error">
          {describeError(array.error)}
        </p>
      ) : null}
      {data ? (
        <>
          <PhaseBar label={`Array ${data.name}`} counts={data.counts} total={data.size} />
          <dl className="facts" data-testid="array-summary">
            <dt>Id</dt>
            <dd>
              <code>{data.id}</code>
            </dd>
            <dt>Elements</dt>
            <dd>{data.size}</dd>
            <dt>At most at once</dt>
            <dd>{data.parallelism ?? 'no limit'}</dd>
            <dt>Progress</dt>
            <dd>{Math.round(data.progress * 100)}%</dd>
            <dt>Group</dt>
            <dd>
              {data.group ? (
                <Link to={`/groups/${encodeURIComponent(data.group)}`}>{data.group}</Link>
              ) : (
                '—'
              )}
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(data.created_at)}</dd>
            <dt>Done</dt>
            <dd>{data.done ? formatTime(data.finished_at) : 'not yet'}</dd>
          </dl>
          <p>
            <Link to={`/jobs?array=${data.id}`}>The array&apos;s elements</Link>
          </p>
        </>
      ) : null}
    </>
  );
}

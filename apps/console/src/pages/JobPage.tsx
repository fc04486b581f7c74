import { isTerminal, type Job, type RoamClient, RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { formatTime, ordinal, saveResponse } from '../format.js';
import { Link } from '../router.js';
import { describeError, useSession } from '../session.js';

export function JobPage(props: { id: string }) {
  const { client } = useSession();
  const job = useQuery({ queryKey: ['job', props.id], queryFn: () => client.getJob(props.id) });

  if (job.error)
    return (
      <>
        <h1>Job</h1>
        <p role="alert" className="error">
          {describeError(job.error)}
        </p>
        <Link to="/jobs">Back to jobs</Link>
      </>
    );
  if (!job.data) return <p role="status">Loading…</p>;
  const current = job.data;
  return (
    <>
      <h1>
        Job {current.name}{' '}
        <span className={`status status-${current.status}`} data-testid="job-status">
          {current.status}
        </span>
      </h1>
      <Summary job={current} />
      <CancelJob job={current} />
      {current.status === 'pending' ? <Explain id={current.id} /> : null}
      <Timeline job={current} />
      <Logs job={current} client={client} />
      <Results job={current} client={client} />
      <Deliveries id={current.id} />
      <section aria-labelledby="spec-heading">
        <h2 id="spec-heading">Spec</h2>
        <pre className="code" tabIndex={0} aria-label="Job spec as JSON">
          {JSON.stringify(current.spec, null, 2)}
        </pre>
      </section>
    </>
  );
}

function Summary({ job }: { job: Job }) {
  const placement = job.placement as { node?: string; pod?: string } | null;
  return (
    <dl className="facts">
      <dt>Id</dt>
      <dd>
        <code>{job.id}</code>
      </dd>
      <dt>Phase</dt>
      <dd>
        {job.phase}
        {job.reason ? ` (${job.reason})` : ''}
      </dd>
      <dt>Queue</dt>
      <dd>{job.queue}</dd>
      {job.group ? (
        <>
          <dt>Group</dt>
          <dd>
            <Link to={`/groups/${encodeURIComponent(job.group)}`}>{job.group}</Link>
          </dd>
        </>
      ) : null}
      {job.array ? (
        <>
          <dt>Array</dt>
          <dd>
            <Link to={`/arrays/${job.array.id}`}>element {job.array.index}</Link>
          </dd>
        </>
      ) : null}
      <dt>Attempt</dt>
      <dd>{job.attempt}</dd>
      <dt>Submitted</dt>
      <dd>{formatTime(job.created_at)}</dd>
      <dt>Started</dt>
      <dd>{formatTime(job.started_at)}</dd>
      <dt>Finished</dt>
      <dd>{formatTime(job.completed_at)}</dd>
      <dt>Exit code</dt>
      <dd>{job.exit_code ?? '—'}</dd>
      <dt>Runs on</dt>
      <dd>{placement?.node ? `${placement.node} (pod ${placement.pod ?? '?'})` : '—'}</dd>
      {job.message ? (
        <>
          <dt>Message</dt>
          <dd>{job.message}</dd>
        </>
      ) : null}
    </dl>
  );
}

function CancelJob({ job }: { job: Job }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  if (isTerminal(job.status)) return null;
  const cancel = async () => {
    try {
      await client.cancelJob(job.id);
      setMessage('Cancel requested.');
    } catch (error) {
      setMessage(describeError(error));
    }
    setConfirming(false);
    await queries.invalidateQueries({ queryKey: ['job', job.id] });
  };
  return (
    <div className="toolbar">
      {confirming ? (
        <>
          <button type="button" className="danger" onClick={() => void cancel()}>
            Yes, cancel this job
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Cancel job
        </button>
      )}
      <span role="status">{message}</span>
    </div>
  );
}

/** Why a pending job waits, in words: its place in line and what would let it move. */
function Explain({ id }: { id: string }) {
  const { client } = useSession();
  const explain = useQuery({
    queryKey: ['job', id, 'explain'],
    queryFn: () => client.explain(id),
    refetchInterval: 5_000,
  });
  const data = explain.data;
  return (
    <section aria-labelledby="explain-heading">
      <h2 id="explain-heading">Why it waits</h2>
      {data ? (
        <>
          <p data-testid="explain">
            {data.position
              ? `${ordinal(data.position.tenant)} in line of ${data.position.tenantWaiting} waiting in your queue` +
                ` (${ordinal(data.position.global)} of ${data.position.globalWaiting} overall). `
              : ''}
            {data.summary}
          </p>
          {data.unblock?.length ? (
            <>
              <p>Any one of these would let it move:</p>
              <ul>
                {data.unblock.map((step) => (
                  <li key={step}>{step}</li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : explain.error ? (
        <p className="error">{describeError(explain.error)}</p>
      ) : (
        <p role="status">Asking the scheduler…</p>
      )}
    </section>
  );
}

/** Phases and attempts, oldest first; a new attempt starts a new group. */
function Timeline({ job }: { job: Job }) {
  const { client } = useSession();
  const events = useQuery({
    // Keyed by the job's phase so a live change refetches it.
    queryKey: ['job', job.id, 'events', job.phase, job.attempt],
    queryFn: () => client.jobEvents(job.id),
  });
  let attempt = 1;
  const rows = (events.data ?? []).map((event) => {
    const data = event.data as { attempt?: number } | null;
    if (typeof data?.attempt === 'number') attempt = data.attempt;
    return { event, attempt };
  });
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ol className="timeline" data-testid="timeline">
        {rows.map(({ event, attempt: n }) => (
          <li key={event.seq}>
            <time dateTime={event.at}>{formatTime(event.at)}</time> <strong>{event.phase}</strong>{' '}
            <span className="muted">attempt {n}</span>
            {event.reason ? ` — ${event.reason}` : ''}
            {event.message ? `: ${event.message}` : ''}
          </li>
        ))}
      </ol>
      {events.error ? <p className="error">{describeError(events.error)}</p> : null}
    </section>
  );
}

const MAX_LOG_LINES = 5_000;

/**
 * The log: followed live over SSE while the job runs (until the pod ends), read once otherwise.
 * Only the last MAX_LOG_LINES lines are kept in the page.
 */
function Logs({ job, client }: { job: Job; client: RoamClient }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<'idle' | 'following' | 'ended' | 'error'>('idle');
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const running = job.status === 'running';
  const started = job.started_at !== null;

  useEffect(() => {
    if (!started) return;
    const abort = new AbortController();
    const keep = (next: string[]) => next.slice(-MAX_LOG_LINES);
    const read = async () => {
      try {
        if (running) {
          setState('following');
          const collected: string[] = [];
          for await (const line of client.followLogs(job.id, {}, abort.signal)) {
            collected.push(line);
            setLines(keep([...collected]));
          }
        } else {
          const text = await client.logs(job.id, { tail: MAX_LOG_LINES });
          setLines(text ? text.replace(/\n$/, '').split('\n') : []);
        }
        setState('ended');
      } catch (caught) {
        if (abort.signal.aborted) return;
        setError(describeError(caught));
        setState('error');
      }
    };
    void read();
    return () => abort.abort();
  }, [client, job.id, running, started]);

  const needle = search.trim().toLowerCase();
  const shown = needle ? lines.filter((line) => line.toLowerCase().includes(needle)) : lines;
  return (
    <section aria-labelledby="logs-heading">
      <h2 id="logs-heading">Logs</h2>
      {!started ? (
        <p>No logs yet: the job has not started.</p>
      ) : (
        <>
          <div className="toolbar">
            <label htmlFor="log-search">Search the log</label>
            <input
              id="log-search"
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
            <span role="status" className="muted">
              {state === 'following'
                ? 'Following live…'
                : needle
                  ? `${shown.length} of ${lines.length} lines match`
                  : `${lines.length} lines`}
            </span>
          </div>
          <pre className="code log" tabIndex={0} aria-label="Job log" data-testid="log">
            {shown.join('\n')}
          </pre>
          {error ? <p className="error">{error}</p> : null}
        </>
      )}
    </section>
  );
}

function Results({ job, client }: { job: Job; client: RoamClient }) {
  const finished = isTerminal(job.status);
  const results = useQuery({
    queryKey: ['job', job.id, 'results', job.status],
    queryFn: () => client.results(job.id),
    enabled: finished,
  });
  const [error, setError] = useState<string | null>(null);
  const download = (fetchIt: () => Promise<Response>, filename: string) => {
    fetchIt()
      .then((response) => saveResponse(response, filename))
      .catch((caught: unknown) => setError(describeError(caught)));
  };
  const files: Schemas['ResultFile'][] = results.data?.files ?? [];
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      {!finished ? (
        <p>Results appear here once the job has finished.</p>
      ) : results.error ? (
        <p className="error">{describeError(results.error)}</p>
      ) : files.length === 0 ? (
        <p>{results.isLoading ? 'Loading…' : 'This job left no result files.'}</p>
      ) : (
        <>
          <button
            type="button"
            onClick={() => download(() => client.resultsZip(job.id), `${job.id}-results.zip`)}
          >
            Download all as zip
          </button>
          <table className="grid">
            <caption className="visually-hidden">Result files</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Size</th>
                <th scope="col">Download</th>
              </tr>
            </thead>
            <tbody>
              {files.map((file) => (
                <tr key={file.name}>
                  <td>
                    <code>{file.name}</code>
                  </td>
                  <td>{file.size} bytes</td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Download ${file.name}`}
                      onClick={() =>
                        download(
                          () => client.resultFile(job.id, file.name),
                          file.name.split('/').pop() ?? 'result',
                        )
                      }
                    >
                      Download
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {results.data?.has_more ? <p>More files: download the zip for all of them.</p> : null}
        </>
      )}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}

/** Webhook deliveries of the job's events, to any of the tenant's endpoints. */
function Deliveries({ id }: { id: string }) {
  const { client } = useSession();
  const deliveries = useQuery({
    queryKey: ['job', id, 'deliveries'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/jobs/{id}/deliveries', {
        params: { path: { id }, query: { limit: 50 } },
      });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
  });
  const items = deliveries.data ?? [];
  return (
    <section aria-labelledby="job-deliveries-heading">
      <h2 id="job-deliveries-heading">Webhook deliveries</h2>
      {deliveries.error ? (
        <p role="alert" className="error">
          {describeError(deliveries.error)}
        </p>
      ) : null}
      {deliveries.data && items.length === 0 ? (
        <p>None: no webhook endpoint takes this job&apos;s events.</p>
      ) : null}
      {items.length > 0 ? (
        <table className="grid" data-testid="job-deliveries">
          <caption className="visually-hidden">
            Webhook deliveries of this job&apos;s events
          </caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
            </tr>
          </thead>
          <tbody>
            {items.map((delivery) => {
              const last = delivery.attempt_log.at(-1);
              return (
                <tr key={delivery.id}>
                  <td>{formatTime(delivery.created_at)}</td>
                  <td>{delivery.event_type}</td>
                  <td>
                    <code>{delivery.endpoint_id}</code>
                  </td>
                  <td>{delivery.status}</td>
                  <td>{delivery.attempts}</td>
                  <td>{last ? (last.status_code ?? last.error ?? '—') : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

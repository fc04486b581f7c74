import { RoamError } from '@roam/client';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';

import { type Line, PALETTE, TimeChart } from '../components/TimeChart.js';
import { formatDuration, formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';
import { WindowSelect } from '../components/WindowSelect.js';

/** The admission queue for operators: waiting jobs per tenant, admission rate, oldest waits. */
export function QueuePage() {
  const { client } = useSession();
  const [hours, setHours] = useState(1);
  const queue = useQuery({
    queryKey: ['queue', hours],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/admin/queue', {
        params: { query: { hours, buckets: 60 } },
      });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data;
    },
    refetchInterval: 15_000,
  });
  const data = queue.data;
  const charts = useMemo(() => {
    if (!data) return null;
    const pending: Line[] = data.pending.map((tenant, i) => ({
      label: tenant.tenant,
      values: tenant.values,
      colour: PALETTE[i % PALETTE.length]!,
    }));
    const perMinute = 60 / Math.max(data.bucket_seconds, 1);
    const admitted: Line[] = [
      {
        label: 'Admitted per minute',
        values: data.admitted.map((count) => Number((count * perMinute).toFixed(2))),
        colour: PALETTE[2]!,
      },
    ];
    return { pending, admitted };
  }, [data]);

  return (
    <>
      <h1>Queue</h1>
      <WindowSelect id="queue-window" hours={hours} onChange={setHours} />
      {queue.error ? (
        <p role="alert" className="error">
          {describeError(queue.error)}
        </p>
      ) : null}
      {data && charts ? (
        <>
          {charts.pending.length > 0 ? (
            <TimeChart
              title="Jobs waiting, per tenant"
              times={data.times}
              lines={charts.pending}
              unit="jobs"
              testId="pending-chart"
            />
          ) : (
            <p>No job waited in this window.</p>
          )}
          <TimeChart
            title="Admission rate"
            times={data.times}
            lines={charts.admitted}
            unit="jobs/min"
            testId="admitted-chart"
          />
          <section aria-labelledby="oldest-heading">
            <h2 id="oldest-heading">Oldest waiting, now</h2>
            <table className="grid" data-testid="oldest-waiting">
              <caption className="visually-hidden">
                Tenants with jobs waiting, longest wait first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Oldest submitted</th>
                  <th scope="col">Waiting for</th>
                </tr>
              </thead>
              <tbody>
                {data.oldest_waiting.map((row) => (
                  <tr key={row.tenant}>
                    <th scope="row">{row.tenant}</th>
                    <td>{row.waiting}</td>
                    <td>{formatTime(row.oldest_created_at)}</td>
                    <td>{formatDuration(row.oldest_wait_seconds)}</td>
                  </tr>
                ))}
                {data.oldest_waiting.length === 0 ? (
                  <tr>
                    <td colSpan={4}>Nothing is waiting.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </>
  );
}

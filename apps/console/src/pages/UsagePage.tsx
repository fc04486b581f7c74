import { RoamError } from '@roam/client';
import { useQuery } from '@tanstack/react-query';
import { Fragment, useMemo, useState } from 'react';

import { type Line, PALETTE, TimeChart } from '../components/TimeChart.js';
import { ordinal } from '../format.js';
import { describeError, useSession } from '../session.js';
import { WindowSelect } from '../components/WindowSelect.js';

/** The windows the page offers: hours back, in 48 points. */
/** Kubernetes quantities as numbers: CPU in cores, memory in GiB. */
function cores(value: string | undefined): number {
  if (!value) return 0;
  return value.endsWith('m') ? Number(value.slice(0, -1)) / 1000 : Number(value);
}
const UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  K: 1e3,
  M: 1e6,
  G: 1e9,
};
function gibibytes(value: string | undefined): number {
  if (!value) return 0;
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(value);
  if (!match) return 0;
  return (Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1)) / 2 ** 30;
}

/** The tenant's quota in use against its limits, its jobs by status, offload spend. */
export function UsagePage() {
  const session = useSession();
  const { client } = session;
  const dashboard = useQuery({
    queryKey: ['dashboard'],
    queryFn: async () => {
      const result = await client.api.GET('/tenants/me/dashboard');
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data;
    },
    refetchInterval: 10_000,
  });
  const me = useQuery({ queryKey: ['me'], queryFn: () => client.me() });
  const data = dashboard.data;
  const usage = data?.current_usage ?? {};
  const rows = data
    ? [
        {
          what: 'CPU (cores)',
          used: cores(usage['requests.cpu']),
          limit: data.plan_limits.max_cpu,
        },
        {
          what: 'Memory (GiB)',
          used: gibibytes(usage['requests.memory']),
          limit: data.plan_limits.max_memory_gi,
        },
        {
          what: 'GPUs',
          used: Number(usage['requests.nvidia.com/gpu'] ?? 0),
          limit: data.plan_limits.max_gpu,
        },
        {
          what: 'Running jobs',
          used: data.stats.running,
          limit: data.plan_limits.max_concurrent_jobs,
        },
      ]
    : [];
  return (
    <>
      <h1>Usage</h1>
      {dashboard.error ? (
        <p role="alert" className="error">
          {describeError(dashboard.error)}
        </p>
      ) : null}
      <section aria-labelledby="quota-heading">
        <h2 id="quota-heading">Quota in use</h2>
        <table className="grid">
          <caption className="visually-hidden">Quota in use against your limits</caption>
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">In use</th>
              <th scope="col">Limit</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.what}>
                <th scope="row">{row.what}</th>
                <td>{Number(row.used.toFixed(2))}</td>
                <td>{row.limit}</td>
                <td>
                  <meter
                    min={0}
                    max={Math.max(row.limit, 1)}
                    value={Math.min(row.used, Math.max(row.limit, 1))}
                    aria-label={`${row.what} in use`}
                  />{' '}
                  {row.limit > 0 ? `${Math.round((100 * row.used) / row.limit)}%` : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <OverTime />
      {data ? (
        <section aria-labelledby="stats-heading">
          <h2 id="stats-heading">Jobs by status</h2>
          <dl className="facts" data-testid="stats">
            {Object.entries(data.stats).map(([status, count]) => (
              <Fragment key={status}>
                <dt>{status}</dt>
                <dd>{count}</dd>
              </Fragment>
            ))}
          </dl>
        </section>
      ) : null}
      {me.data ? (
        <section aria-labelledby="offload-heading">
          <h2 id="offload-heading">Offload spend</h2>
          <p>
            ${me.data.offload_spend_usd.toFixed(2)} spent
            {me.data.offload_budget_usd === null
              ? ' (no budget set)'
              : ` of a $${me.data.offload_budget_usd.toFixed(2)} budget`}
            . Fair-share weight {me.data.weight}.
          </p>
        </section>
      ) : null}
    </>
  );
}

/** Quota in use over a window against the limits, and where fair share puts the tenant now. */
function OverTime() {
  const { client } = useSession();
  const [hours, setHours] = useState(24);
  const series = useQuery({
    queryKey: ['usage-series', hours],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/usage/series', {
        params: { query: { hours, buckets: 48 } },
      });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data;
    },
    refetchInterval: 30_000,
  });
  const data = series.data;
  const charts = useMemo(() => {
    if (!data) return null;
    const times = data.points.map((point) => point.at);
    const flat = (value: number) => data.points.map(() => value);
    const cpu: Line[] = [
      {
        label: 'CPU in use (cores)',
        values: data.points.map((point) => point.cpu_millis / 1000),
        colour: PALETTE[0]!,
      },
      {
        label: 'CPU limit',
        values: flat(data.limits.cpu_millis / 1000),
        colour: PALETTE[1]!,
        dashed: true,
      },
    ];
    const jobs: Line[] = [
      { label: 'Running', values: data.points.map((point) => point.running), colour: PALETTE[0]! },
      { label: 'Waiting', values: data.points.map((point) => point.pending), colour: PALETTE[3]! },
      {
        label: 'Concurrent jobs limit',
        values: flat(data.limits.concurrent_jobs),
        colour: PALETTE[1]!,
        dashed: true,
      },
    ];
    const budget = data.limits.offload_budget_micros;
    const spend: Line[] = [
      {
        label: 'Offload spend (USD)',
        values: data.points.map((point) => point.offload_spend_micros / 1e6),
        colour: PALETTE[0]!,
      },
      ...(budget === null
        ? []
        : [{ label: 'Budget', values: flat(budget / 1e6), colour: PALETTE[1]!, dashed: true }]),
    ];
    return { times, cpu, jobs, spend };
  }, [data]);
  const standing = data?.fair_share;
  return (
    <section aria-labelledby="time-heading">
      <h2 id="time-heading">Over time</h2>
      <WindowSelect id="usage-window" hours={hours} onChange={setHours} />
      {series.error ? (
        <p role="alert" className="error">
          {describeError(series.error)}
        </p>
      ) : null}
      {standing ? (
        <p className="standing" data-testid="fair-share">
          {standing.position === null
            ? `Nothing of yours is waiting. `
            : `Fair share: ${ordinal(standing.position)} of ${standing.competing} tenant(s) with jobs waiting for the next free slot. `}
          You hold {(standing.share * 100).toFixed(1)}% of the cluster (weighted dominant share).
        </p>
      ) : null}
      {charts ? (
        <>
          <TimeChart
            title="CPU in use against your limit"
            times={charts.times}
            lines={charts.cpu}
            unit="cores"
            testId="cpu-chart"
          />
          <TimeChart
            title="Jobs running and waiting"
            times={charts.times}
            lines={charts.jobs}
            unit="jobs"
            testId="jobs-chart"
          />
          <TimeChart
            title="Offload spend against your budget"
            times={charts.times}
            lines={charts.spend}
            unit="USD"
            testId="spend-chart"
          />
        </>
      ) : null}
    </section>
  );
}

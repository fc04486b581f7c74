import { RoamError } from '@roam/client';
import { useQuery } from '@tanstack/react-query';

import { formatTime, usd } from '../format.js';
import { describeError, useSession } from '../session.js';

/** RunPod offloads for operators: pods, the prices they run at, spend per tenant. */
export function OffloadPage() {
  const { client } = useSession();
  const overview = useQuery({
    queryKey: ['offload'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/admin/offload');
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data;
    },
    refetchInterval: 15_000,
  });
  const data = overview.data;
  return (
    <>
      <h1>Offload</h1>
      {overview.error ? (
        <p role="alert" className="error">
          {describeError(overview.error)}
        </p>
      ) : null}
      {data ? (
        <>
          <section aria-labelledby="spend-heading">
            <h2 id="spend-heading">Spend per tenant</h2>
            <table className="grid" data-testid="spend">
              <caption className="visually-hidden">Offload spend per tenant against budget</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Spent</th>
                  <th scope="col">Budget</th>
                  <th scope="col">Of budget</th>
                  <th scope="col">Live pods</th>
                </tr>
              </thead>
              <tbody>
                {data.spend.map((row) => (
                  <tr key={row.tenant}>
                    <th scope="row">{row.tenant}</th>
                    <td>{usd(row.spend_micros)}</td>
                    <td>{row.budget_micros === null ? 'none' : usd(row.budget_micros)}</td>
                    <td>
                      {row.budget_micros ? (
                        <>
                          <meter
                            min={0}
                            max={row.budget_micros}
                            value={Math.min(row.spend_micros, row.budget_micros)}
                            aria-label={`${row.tenant}: spend of budget`}
                          />{' '}
                          {Math.round((100 * row.spend_micros) / row.budget_micros)}%
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>{row.running_pods}</td>
                  </tr>
                ))}
                {data.spend.length === 0 ? (
                  <tr>
                    <td colSpan={5}>No tenant has offloaded or has a budget.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="prices-heading">
            <h2 id="prices-heading">Prices (last 30 days)</h2>
            <table className="grid" data-testid="prices">
              <caption className="visually-hidden">Hourly prices per GPU type</caption>
              <thead>
                <tr>
                  <th scope="col">GPU type</th>
                  <th scope="col">Pods</th>
                  <th scope="col">Last price / hour</th>
                  <th scope="col">Lowest</th>
                  <th scope="col">Highest</th>
                </tr>
              </thead>
              <tbody>
                {data.prices.map((row) => (
                  <tr key={row.gpu_type}>
                    <th scope="row">{row.gpu_type}</th>
                    <td>{row.pods}</td>
                    <td>{usd(row.last_price_per_hour_micros)}</td>
                    <td>{usd(row.min_price_per_hour_micros)}</td>
                    <td>{usd(row.max_price_per_hour_micros)}</td>
                  </tr>
                ))}
                {data.prices.length === 0 ? (
                  <tr>
                    <td colSpan={5}>No pod in the last 30 days.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="pods-heading">
            <h2 id="pods-heading">Pods</h2>
            <table className="grid" data-testid="pods">
              <caption className="visually-hidden">
                The most recent RunPod pods, live ones first
              </caption>
              <thead>
                <tr>
                  <th scope="col">RunPod pod</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">State</th>
                  <th scope="col">GPU</th>
                  <th scope="col">Data centre</th>
                  <th scope="col">Price / hour</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Created</th>
                  <th scope="col">Ended</th>
                </tr>
              </thead>
              <tbody>
                {data.pods.map((pod) => (
                  <tr key={pod.id}>
                    <th scope="row">{pod.runpod_pod_id ?? '(creating)'}</th>
                    <td>{pod.tenant ?? '—'}</td>
                    <td>{pod.state}</td>
                    <td>{pod.gpu_type}</td>
                    <td>{pod.data_center ?? '—'}</td>
                    <td>{usd(pod.price_per_hour_micros)}</td>
                    <td>{usd(pod.cost_micros)}</td>
                    <td>{formatTime(pod.created_at)}</td>
                    <td>{formatTime(pod.ended_at)}</td>
                  </tr>
                ))}
                {data.pods.length === 0 ? (
                  <tr>
                    <td colSpan={9}>No pod yet.</td>
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

import { type Schemas } from '@roam/client';
import { useQuery } from '@tanstack/react-query';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

/** Every tenant with its limits and offload spend against its budget (admin keys). */
export function TenantsPage() {
  const { client } = useSession();
  const tenants = useQuery({
    queryKey: ['tenants'],
    queryFn: async () => {
      const items: Schemas['Tenant'][] = [];
      let cursor: string | undefined;
      // Operators have tens of tenants, not thousands; stop at 1,000 all the same.
      do {
        const result = await client.api.GET('/api/v1/tenants', {
          params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } },
        });
        if (!result.data) throw new Error('could not list tenants');
        items.push(...result.data.items);
        cursor = result.data.next_cursor ?? undefined;
      } while (cursor && items.length < 1_000);
      return items;
    },
  });

  return (
    <>
      <h1>Tenants</h1>
      {tenants.error ? (
        <p role="alert" className="error">
          {describeError(tenants.error)}
        </p>
      ) : null}
      <table className="grid">
        <caption className="visually-hidden">Tenants and their limits</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Status</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">GPUs</th>
            <th scope="col">Concurrent jobs</th>
            <th scope="col">Fair-share weight</th>
            <th scope="col">Offload spend</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {(tenants.data ?? []).map((tenant) => (
            <tr key={tenant.tenant_id}>
              <th scope="row">{tenant.tenant_id}</th>
              <td>
                {tenant.status}
                {tenant.status_reason ? ` (${tenant.status_reason})` : ''}
              </td>
              <td>{tenant.max_cpu}</td>
              <td>{tenant.max_memory_gi} Gi</td>
              <td>{tenant.max_gpu}</td>
              <td>{tenant.max_concurrent_jobs}</td>
              <td>{tenant.weight}</td>
              <td>
                <Spend tenant={tenant} />
              </td>
              <td>{formatTime(tenant.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Spend({ tenant }: { tenant: Schemas['Tenant'] }) {
  const spent = `$${tenant.offload_spend_usd.toFixed(2)}`;
  if (tenant.offload_budget_usd === null) return <>{spent} (no budget)</>;
  return (
    <>
      <meter
        min={0}
        max={tenant.offload_budget_usd}
        value={tenant.offload_spend_usd}
        aria-label={`Offload spend of ${tenant.tenant_id}`}
      />{' '}
      {spent} of ${tenant.offload_budget_usd.toFixed(2)}
    </>
  );
}

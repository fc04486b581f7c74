import { RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

/**
 * Every tenant with what its jobs hold against its limits, and offload spend against its budget
 * (admin keys).
 */
export function TenantsPage() {
  const { client } = useSession();
  const [editing, setEditing] = useState<string | null>(null);
  const tenants = useQuery({
    queryKey: ['tenants'],
    queryFn: async () => {
      const items: Schemas['TenantWithUsage'][] = [];
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
        <caption className="visually-hidden">Tenants: quota in use against their limits</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Status</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">GPUs</th>
            <th scope="col">TPU chips</th>
            <th scope="col">Running jobs</th>
            <th scope="col">Fair-share weight</th>
            <th scope="col">Offload spend</th>
            <th scope="col">Created</th>
            <th scope="col">Limits</th>
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
              <td>
                <InUse
                  tenant={tenant.tenant_id}
                  what="CPU"
                  used={tenant.usage.cpu}
                  limit={tenant.max_cpu}
                />
              </td>
              <td>
                <InUse
                  tenant={tenant.tenant_id}
                  what="Memory"
                  used={tenant.usage.memory_gi}
                  limit={tenant.max_memory_gi}
                  unit=" Gi"
                />
              </td>
              <td>
                <InUse
                  tenant={tenant.tenant_id}
                  what="GPUs"
                  used={tenant.usage.gpu}
                  limit={tenant.max_gpu}
                />
              </td>
              <td>
                {tenant.max_tpu === null ? (
                  `${tenant.usage.tpu} (no TPU quota)`
                ) : (
                  <InUse
                    tenant={tenant.tenant_id}
                    what="TPU chips"
                    used={tenant.usage.tpu}
                    limit={tenant.max_tpu}
                  />
                )}
              </td>
              <td>
                <InUse
                  tenant={tenant.tenant_id}
                  what="Running jobs"
                  used={tenant.usage.running_jobs}
                  limit={tenant.max_concurrent_jobs}
                />
                {tenant.usage.pending_jobs > 0 ? ` (${tenant.usage.pending_jobs} waiting)` : ''}
              </td>
              <td>{tenant.weight}</td>
              <td>
                <Spend tenant={tenant} />
              </td>
              <td>{formatTime(tenant.created_at)}</td>
              <td>
                <button
                  type="button"
                  aria-expanded={editing === tenant.tenant_id}
                  aria-label={`Edit limits of ${tenant.tenant_id}`}
                  onClick={() => setEditing(editing === tenant.tenant_id ? null : tenant.tenant_id)}
                >
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && tenants.data?.some((t) => t.tenant_id === editing) ? (
        <EditLimits
          key={editing}
          tenant={tenants.data.find((t) => t.tenant_id === editing)!}
          onDone={() => setEditing(null)}
        />
      ) : null}
    </>
  );
}

/** The limits an operator may change, with the bounds the API enforces (tenant.schemas.ts). */
const FIELDS = [
  { name: 'max_cpu', label: 'CPU (cores)', min: 0.001, max: 100_000, step: 'any' },
  { name: 'max_memory_gi', label: 'Memory (GiB)', min: 0.001, max: 1_000_000, step: 'any' },
  { name: 'max_gpu', label: 'GPUs', min: 0, max: 10_000, step: '1' },
  { name: 'max_concurrent_jobs', label: 'Concurrent jobs', min: 1, max: 100_000, step: '1' },
  { name: 'weight', label: 'Fair-share weight', min: 1, max: 1000, step: '1' },
  {
    name: 'offload_budget_usd',
    label: 'Offload budget (USD, empty = none)',
    min: 0,
    max: 10_000_000,
    step: 'any',
  },
] as const;
type Field = (typeof FIELDS)[number]['name'];

const valueOf = (tenant: Schemas['Tenant'], name: Field): string => {
  const value = tenant[name];
  return value === null ? '' : String(value);
};

/**
 * Limits of one tenant: the browser checks each bound as it is typed, the API checks them again
 * and names every field it refuses; only the fields changed are sent.
 */
function EditLimits(props: { tenant: Schemas['Tenant']; onDone: () => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [values, setValues] = useState<Record<Field, string>>(
    () =>
      Object.fromEntries(FIELDS.map((f) => [f.name, valueOf(props.tenant, f.name)])) as Record<
        Field,
        string
      >,
  );
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const body: Record<string, number | null> = {};
    for (const field of FIELDS) {
      const text = values[field.name].trim();
      if (text === valueOf(props.tenant, field.name)) continue;
      body[field.name] = text === '' && field.name === 'offload_budget_usd' ? null : Number(text);
    }
    if (Object.keys(body).length === 0) {
      setError('Nothing changed.');
      return;
    }
    setSaving(true);
    setError(null);
    const result = await client.api.PATCH('/api/v1/tenants/{id}', {
      params: { path: { id: props.tenant.tenant_id } },
      body,
    });
    setSaving(false);
    if (!result.response.ok) {
      setError(describeError(RoamError.fromBody(result.response, result.error)));
      return;
    }
    await queries.invalidateQueries({ queryKey: ['tenants'] });
    props.onDone();
  };

  return (
    <section aria-labelledby="limits-heading">
      <h2 id="limits-heading">Limits of {props.tenant.tenant_id}</h2>
      <form className="form" onSubmit={(event) => void save(event)}>
        {FIELDS.map((field) => (
          <div key={field.name} className="field">
            <label htmlFor={`limit-${field.name}`}>{field.label}</label>
            <input
              id={`limit-${field.name}`}
              type="number"
              min={field.min}
              max={field.max}
              step={field.step}
              required={field.name !== 'offload_budget_usd'}
              value={values[field.name]}
              onChange={(event) => setValues({ ...values, [field.name]: event.target.value })}
            />
          </div>
        ))}
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <div className="toolbar">
          <button type="submit" disabled={saving}>
            Save limits
          </button>
          <button type="button" onClick={props.onDone}>
            Cancel
          </button>
        </div>
      </form>
    </section>
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

/** Quota in use against its limit: a labelled `<meter>` and the figures in words. */
function InUse(props: {
  tenant: string;
  what: string;
  used: number;
  limit: number;
  unit?: string;
}) {
  const unit = props.unit ?? '';
  const max = Math.max(props.limit, 1);
  return (
    <>
      <meter
        min={0}
        max={max}
        value={Math.min(props.used, max)}
        aria-label={`${props.what} in use by ${props.tenant}`}
      />{' '}
      {Number(props.used.toFixed(2))}
      {unit} of {props.limit}
      {unit}
    </>
  );
}

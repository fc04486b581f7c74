import { RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

/** The tenant's API keys: issue one (its secret shown once), revoke one. */
export function KeysPage() {
  const session = useSession();
  const queries = useQueryClient();
  const tenantId = session.role === 'tenant' ? session.tenant.tenant_id : '';
  const path = { id: tenantId };
  const keys = useQuery({
    queryKey: ['keys'],
    queryFn: async () => {
      const result = await session.client.api.GET('/api/v1/tenants/{id}/keys', {
        params: { path },
      });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
  });
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<Schemas['IssuedApiKey'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const result = await session.client.api.POST('/api/v1/tenants/{id}/keys', {
      params: { path },
      body: { name: name.trim() || 'default' },
    });
    if (result.data) {
      setIssued(result.data);
      setName('');
    } else setError(describeError(RoamError.fromBody(result.response, result.error)));
    await queries.invalidateQueries({ queryKey: ['keys'] });
  };

  const revoke = async (key: Schemas['ApiKey']) => {
    setError(null);
    const result = await session.client.api.DELETE('/api/v1/tenants/{id}/keys/{keyId}', {
      params: { path: { ...path, keyId: key.id } },
    });
    if (!result.response.ok)
      setError(describeError(RoamError.fromBody(result.response, result.error)));
    await queries.invalidateQueries({ queryKey: ['keys'] });
  };

  return (
    <>
      <h1>API keys</h1>
      <form className="filters" onSubmit={(event) => void create(event)}>
        <label htmlFor="key-name">Name of a new key</label>
        <input
          id="key-name"
          value={name}
          maxLength={100}
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit">Issue key</button>
      </form>
      {issued ? (
        <div className="impact" role="status">
          <p>
            Key <strong>{issued.name}</strong> issued. Copy it now: it is shown only this once.
          </p>
          <pre className="code" tabIndex={0} aria-label="The new key" data-testid="issued-key">
            {issued.api_key}
          </pre>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <table className="grid">
        <caption className="visually-hidden">Your API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.id}>
              <th scope="row">{key.name}</th>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{formatTime(key.created_at)}</td>
              <td>{formatTime(key.last_used_at)}</td>
              <td>
                {key.revoked_at ? (
                  `revoked ${formatTime(key.revoked_at)}`
                ) : (
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Revoke key ${key.name} (${key.prefix})`}
                    onClick={() => void revoke(key)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

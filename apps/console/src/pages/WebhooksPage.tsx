import { RoamError, type Schemas } from '@roam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { formatTime } from '../format.js';
import { describeError, useSession } from '../session.js';

type Webhook = Schemas['Webhook'];

/** Webhooks: create (secret shown once), pause and resume, rotate the secret, test, deliveries. */
export function WebhooksPage() {
  const { client } = useSession();
  const queries = useQueryClient();
  const hooks = useQuery({
    queryKey: ['webhooks'],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/webhooks');
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
  });
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  /** One call, its failure shown as an alert; the list refreshed either way. */
  const act = async <T,>(
    call: () => Promise<{ data?: T; error?: unknown; response: Response }>,
    done: (data: T) => void,
  ) => {
    setError(null);
    setMessage(null);
    const result = await call();
    if (result.response.ok) done(result.data as T);
    else setError(describeError(RoamError.fromBody(result.response, result.error)));
    await queries.invalidateQueries({ queryKey: ['webhooks'] });
  };

  const create = (event: FormEvent) => {
    event.preventDefault();
    const filters = events
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    void act(
      () =>
        client.api.POST('/api/v1/webhooks', {
          body: {
            url: url.trim(),
            ...(filters.length ? { events: filters } : {}),
            ...(description.trim() ? { description: description.trim() } : {}),
          },
        }),
      (created) => {
        setSecret({ url: created.url, secret: created.secret });
        setUrl('');
        setEvents('');
        setDescription('');
      },
    );
  };
  const path = (hook: Webhook) => ({ params: { path: { id: hook.id } } });

  return (
    <>
      <h1>Webhooks</h1>
      <form className="form" onSubmit={create} aria-label="New webhook">
        <label htmlFor="hook-url">Endpoint URL</label>
        <input
          id="hook-url"
          type="url"
          required
          maxLength={2048}
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          placeholder="https://example.com/roam"
        />
        <label htmlFor="hook-events">Events (comma-separated; empty = all)</label>
        <input
          id="hook-events"
          value={events}
          onChange={(event) => setEvents(event.target.value)}
          placeholder="job.succeeded, job.failed"
        />
        <label htmlFor="hook-description">Description</label>
        <input
          id="hook-description"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <button type="submit">Create webhook</button>
      </form>
      {secret ? (
        <div className="impact" role="status">
          <p>Signing secret for {secret.url}. Copy it now: it is shown only this once.</p>
          <pre className="code" tabIndex={0} aria-label="Signing secret" data-testid="secret">
            {secret.secret}
          </pre>
        </div>
      ) : null}
      {message ? <p role="status">{message}</p> : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <table className="grid">
        <caption className="visually-hidden">Your webhooks</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(hooks.data ?? []).map((hook) => (
            <tr key={hook.id}>
              <th scope="row">
                {hook.url}
                {hook.description ? <div className="muted">{hook.description}</div> : null}
              </th>
              <td>{hook.events.length ? hook.events.join(', ') : 'all'}</td>
              <td>
                {hook.status}
                {hook.disabled_reason ? ` (${hook.disabled_reason})` : ''}
              </td>
              <td>
                <div className="toolbar">
                  {hook.status === 'active' ? (
                    <button
                      type="button"
                      aria-label={`Pause ${hook.url}`}
                      onClick={() =>
                        void act(
                          () => client.api.POST('/api/v1/webhooks/{id}/pause', path(hook)),
                          () => setMessage(`Paused ${hook.url}.`),
                        )
                      }
                    >
                      Pause
                    </button>
                  ) : (
                    <button
                      type="button"
                      aria-label={`Resume ${hook.url}`}
                      onClick={() =>
                        void act(
                          () => client.api.POST('/api/v1/webhooks/{id}/resume', path(hook)),
                          () => setMessage(`Resumed ${hook.url}.`),
                        )
                      }
                    >
                      Resume
                    </button>
                  )}
                  <button
                    type="button"
                    aria-label={`Test ${hook.url}`}
                    onClick={() =>
                      void act(
                        () => client.api.POST('/api/v1/webhooks/{id}/test', path(hook)),
                        () => {
                          setMessage(`Test event queued for ${hook.url}.`);
                          setOpen(hook.id);
                          void queries.invalidateQueries({ queryKey: ['deliveries', hook.id] });
                        },
                      )
                    }
                  >
                    Test
                  </button>
                  <button
                    type="button"
                    aria-label={`Rotate secret of ${hook.url}`}
                    onClick={() =>
                      void act(
                        () =>
                          client.api.POST('/api/v1/webhooks/{id}/rotate-secret', {
                            ...path(hook),
                            body: {},
                          }),
                        (rotated) =>
                          setSecret({
                            url: hook.url,
                            secret: (rotated as { secret: string }).secret,
                          }),
                      )
                    }
                  >
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    aria-expanded={open === hook.id}
                    aria-label={`Deliveries of ${hook.url}`}
                    onClick={() => setOpen(open === hook.id ? null : hook.id)}
                  >
                    Deliveries
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open ? <Deliveries id={open} /> : null}
    </>
  );
}

function Deliveries({ id }: { id: string }) {
  const { client } = useSession();
  const deliveries = useQuery({
    queryKey: ['deliveries', id],
    queryFn: async () => {
      const result = await client.api.GET('/api/v1/webhooks/{id}/deliveries', {
        params: { path: { id }, query: { limit: 50 } },
      });
      if (!result.data) throw RoamError.fromBody(result.response, result.error);
      return result.data.items;
    },
    refetchInterval: 5_000,
  });
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries (latest 50)</h2>
      <table className="grid" data-testid="deliveries">
        <caption className="visually-hidden">Deliveries of the webhook</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {(deliveries.data ?? []).map((delivery) => {
            const last = delivery.attempt_log[delivery.attempt_log.length - 1];
            return (
              <tr key={delivery.id}>
                <td>{formatTime(delivery.created_at)}</td>
                <td>{delivery.event_type}</td>
                <td>{delivery.status}</td>
                <td>{delivery.attempts}</td>
                <td>
                  {last
                    ? (last.status_code ?? last.error ?? '—')
                    : delivery.next_attempt_at
                      ? `next at ${formatTime(delivery.next_attempt_at)}`
                      : '—'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {deliveries.error ? <p className="error">{describeError(deliveries.error)}</p> : null}
    </section>
  );
}

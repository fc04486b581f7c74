import { access, constants } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

import pg from 'pg';

import type { ProbeResult } from './services.js';

/** Connects and runs `select 1`; any failure (refused, auth, timeout) is a reason, not a throw. */
export async function probePostgres(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // An error after connect (server going away) must not crash the launcher.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: describe(err) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A NATS server greets every connection with `INFO {json}`; reading it tells us both that it is
 * NATS and whether JetStream is on, which the apps need (without it they fail obscurely).
 */
export function probeNats(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let buffer = '';
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, reason: `no answer within ${timeoutMs} ms` }),
    );
    socket.on('error', (err) => done({ ok: false, reason: describe(err) }));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.slice(0, end);
      if (!line.startsWith('INFO '))
        return done({ ok: false, reason: 'answered, but not as a NATS server' });
      try {
        const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
        done(
          info.jetstream
            ? { ok: true }
            : { ok: false, reason: 'NATS answered without JetStream (start it with -js)' },
        );
      } catch {
        done({ ok: false, reason: 'answered with an unreadable INFO line' });
      }
    });
  });
}

/** True when nothing listens on host:port (so a server of ours can bind it). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Status code of a GET, or undefined when nothing answered. */
export async function httpStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

/** Resolves an executable the way a shell would, or undefined. */
export async function findExecutable(
  name: string,
  path = process.env.PATH ?? '',
): Promise<string | undefined> {
  const candidates =
    isAbsolute(name) || name.includes('/')
      ? [name]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/**
 * The README's configuration tables, generated from the zod schemas every app validates its
 * environment with (`pnpm docs:env` prints them; test/readme.test.ts checks the README lists
 * every key). One source for the code and the docs.
 */
import {
  commonEnv,
  gatewayEnv,
  notifierEnv,
  objectStoreEnv,
  workerEnv,
  workerPorts,
} from '@roam/config';
import type { z } from 'zod';

import { failoverEnv } from '../apps/failover/src/failover.config.js';
import { offloadEnv } from '../apps/offload/src/offload.config.js';
import { reconcilerEnv } from '../apps/reconciler/src/reconciler.config.js';
import { schedulerEnv } from '../apps/scheduler/src/scheduler.config.js';
import { storageEnv } from '../apps/storage/src/storage.config.js';

export const appSchemas: Record<keyof typeof workerPorts, z.ZodObject> = {
  gateway: gatewayEnv,
  scheduler: schedulerEnv,
  reconciler: reconcilerEnv,
  storage: storageEnv,
  offload: offloadEnv,
  failover: failoverEnv,
  notifier: notifierEnv,
};

export interface EnvRow {
  key: string;
  default: string;
  description: string;
}

function defaultOf(schema: z.ZodType): EnvRow['default'] {
  const probe = schema.safeParse(undefined);
  if (!probe.success) return 'required';
  const value: unknown = probe.data;
  if (value === undefined) return 'unset';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

export function rows(shape: Record<string, z.ZodType>): EnvRow[] {
  return Object.entries(shape).map(([key, schema]) => ({
    key,
    default: defaultOf(schema),
    description: (schema.description ?? '').replace(/\|/g, '\\|'),
  }));
}

const workerShared = Object.fromEntries(
  Object.entries(workerEnv('scheduler').shape).filter(
    ([key]) => !(key in commonEnv) && !(key in objectStoreEnv) && key !== 'PORT',
  ),
) as Record<string, z.ZodType>;

/** Every key an app reads, with the groups it shares with other apps left out. */
export function ownRows(app: keyof typeof appSchemas): EnvRow[] {
  const shared = new Set([...Object.keys(commonEnv), ...Object.keys(objectStoreEnv), 'PORT']);
  if (app !== 'gateway') for (const key of Object.keys(workerShared)) shared.add(key);
  return rows(appSchemas[app].shape as Record<string, z.ZodType>).filter(
    (row) => !shared.has(row.key),
  );
}

/** Every key of every app, for the README check. */
export function allKeys(): Set<string> {
  return new Set(Object.values(appSchemas).flatMap((schema) => Object.keys(schema.shape)));
}

export function markdown(): string {
  const table = (list: EnvRow[]) =>
    [
      '| variable | default | meaning |',
      '|---|---|---|',
      ...list.map((r) => `| \`${r.key}\` | ${r.default} | ${r.description} |`),
    ].join('\n');
  const parts = [
    '#### Every app',
    '',
    table(rows(commonEnv)),
    '',
    '`PORT` is the HTTP port (API, health and /metrics): 8000 for the gateway, 8001–8006 for the workers in the order below.',
    '',
    '#### Object storage (every app)',
    '',
    table(rows(objectStoreEnv)),
    '',
    '#### Every worker',
    '',
    table(rows(workerShared)),
    '',
  ];
  for (const app of Object.keys(appSchemas) as (keyof typeof appSchemas)[]) {
    const own = ownRows(app);
    if (own.length === 0) continue;
    parts.push(`#### ${app} (PORT ${workerPorts[app]})`, '', table(own), '');
  }
  return parts.join('\n');
}

if (process.argv.some((arg) => arg.endsWith('env-docs.ts'))) console.log(markdown());

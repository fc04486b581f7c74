import { deadLetterSubject, streamOf, streams, subjects, wildcards } from '@roam/contracts';
import type { StreamName } from '@roam/contracts';

import { SubjectMapper } from './jetstream/options.js';
import { durableName } from './jetstream/server.js';

/**
 * What each roam app does on the bus: the subjects it publishes (directly or through its
 * outbox) and the subjects its `@JetStreamEventPattern` handlers consume. This table is the one
 * source of the NATS users and permissions (`renderNatsConfig`); nothing else grants a subject.
 * Adding a publisher or a handler to an app without adding its subject here makes that app's
 * publish or consumer creation fail with a permissions violation against an authenticated server.
 */
export interface BusRole {
  publishes: readonly string[];
  consumes: readonly string[];
}

export const busRoles = {
  gateway: {
    publishes: [
      subjects.job.submit,
      subjects.job.submitBatch,
      subjects.job.cancel,
      subjects.job.submitted,
      subjects.job.cancelled,
      subjects.tenant.provision,
      subjects.tenant.delete,
      subjects.tenant.created,
      subjects.action.execute,
      subjects.action.requested,
      subjects.webhook.test,
      // Written by the database's group and array counters; the gateway's relay publishes them.
      subjects.group.finished,
      subjects.array.finished,
      subjects.pipeline.finished,
    ],
    consumes: [],
  },
  scheduler: {
    publishes: [
      subjects.job.queued,
      subjects.job.admitted,
      // Evicted for a reclaimed guarantee or a higher-priority job (docs/scheduling.md#borrowing).
      subjects.job.preempted,
      // A job whose dependency can no longer be met (docs/pipelines.md).
      subjects.job.cancelled,
      subjects.tenant.ready,
      subjects.tenant.failed,
      subjects.tenant.deleted,
    ],
    consumes: [
      subjects.job.submit,
      subjects.job.submitBatch,
      subjects.job.succeeded,
      subjects.job.failed,
      subjects.job.cancelled,
      subjects.tenant.provision,
      subjects.tenant.delete,
    ],
  },
  reconciler: {
    publishes: [
      subjects.job.started,
      subjects.job.succeeded,
      subjects.job.failed,
      subjects.job.retried,
      // A JobSet restarted by its own failure policy (docs/scheduling.md#multi-pod).
      subjects.job.restarted,
    ],
    consumes: [subjects.job.cancel],
  },
  offload: {
    publishes: [
      subjects.job.offloaded,
      subjects.job.succeeded,
      subjects.job.failed,
      subjects.job.retried,
    ],
    consumes: [],
  },
  storage: {
    publishes: [],
    consumes: [
      subjects.job.succeeded,
      subjects.job.failed,
      subjects.job.retried,
      subjects.job.cancelled,
    ],
  },
  failover: {
    publishes: [subjects.action.started, subjects.action.succeeded, subjects.action.failed],
    consumes: [subjects.action.execute],
  },
  notifier: { publishes: [subjects.webhook.disabled], consumes: [wildcards.eventsV1] },
} as const satisfies Record<string, BusRole>;

export type BusApp = keyof typeof busRoles;
export const busApps = Object.keys(busRoles) as BusApp[];

export function isBusApp(name: string): name is BusApp {
  return Object.hasOwn(busRoles, name);
}

/** The NATS user name of an app; also its connection name. */
export const natsUserOf = (app: BusApp): string => app;

/** The private inbox root of an app's connection: nobody else may subscribe to its replies. */
export const inboxPrefixOf = (app: BusApp): string => `_INBOX_${app}`;

/** The environment variable the server configuration reads the app's password from. */
export const natsPasswordVariable = (app: BusApp): string =>
  `ROAM_NATS_PASSWORD_${app.toUpperCase()}`;

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/**
 * The wire subjects an app may publish and subscribe to. Besides its own subjects: the
 * JetStream API calls its connection makes (stream ensure at boot, consumer list for metrics,
 * its own durable consumers' create/info/next), the acks of its consumers, the dead letters of
 * what it consumes, and replies on its private inbox. `subjectPrefix` is the test isolation of
 * `JetStreamOptions.subjectPrefix`.
 */
export function permissionsOf(app: BusApp, subjectPrefix?: string): NatsPermissions {
  const map = new SubjectMapper(subjectPrefix);
  const role: BusRole = busRoles[app];
  const publish = new Set<string>(['$JS.API.INFO']);
  for (const stream of Object.keys(streams) as StreamName[]) {
    const name = map.streamName(stream);
    for (const verb of ['INFO', 'CREATE', 'UPDATE']) publish.add(`$JS.API.STREAM.${verb}.${name}`);
    publish.add(`$JS.API.CONSUMER.LIST.${name}`);
  }
  for (const subject of role.publishes) publish.add(map.toWire(subject));
  for (const subject of role.consumes) {
    const stream = map.streamName(streamOf(subject));
    const durable = durableName(app, subject);
    for (const api of ['INFO', 'DURABLE.CREATE', 'MSG.NEXT']) {
      publish.add(`$JS.API.CONSUMER.${api}.${stream}.${durable}`);
    }
    publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${durable}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`);
    publish.add(`$JS.ACK.${stream}.${durable}.>`);
    publish.add(map.toWire(deadLetterSubject(subject)));
  }
  return { publish: [...publish], subscribe: [`${inboxPrefixOf(app)}.>`] };
}

export interface NatsConfigOptions {
  /** Client port. Default 4222. */
  port?: number;
  /** Bind address. Default 0.0.0.0. */
  host?: string;
  /** JetStream store directory. Default /data/jetstream. */
  storeDir?: string;
  /** Monitoring port (`/healthz`), or none. */
  httpPort?: number;
  /** Server-side TLS: paths as seen by nats-server. */
  tls?: { certFile: string; keyFile: string; caFile?: string; verifyClients?: boolean };
  /** See `permissionsOf`. */
  subjectPrefix?: string;
}

const quote = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[], indent: string): string =>
  `[\n${values.map((v) => `${indent}  ${quote(v)}`).join(',\n')}\n${indent}]`;

/**
 * The nats-server configuration for roam: JetStream, one user per app with its permissions, no
 * anonymous access. Passwords are not in it: each is read from the environment variable
 * `natsPasswordVariable(app)` when the server starts, so the file can be committed and shipped
 * in a ConfigMap while the passwords live in a Secret.
 */
export function renderNatsConfig(options: NatsConfigOptions = {}): string {
  const lines = [
    '# Generated by `pnpm nats:config` from libs/messaging/src/accounts.ts. Do not edit.',
    `host: ${quote(options.host ?? '0.0.0.0')}`,
    `port: ${options.port ?? 4222}`,
  ];
  if (options.httpPort !== undefined) lines.push(`http_port: ${options.httpPort}`);
  lines.push(`jetstream {\n  store_dir: ${quote(options.storeDir ?? '/data/jetstream')}\n}`);
  if (options.tls) {
    const tls = [
      `  cert_file: ${quote(options.tls.certFile)}`,
      `  key_file: ${quote(options.tls.keyFile)}`,
    ];
    if (options.tls.caFile) tls.push(`  ca_file: ${quote(options.tls.caFile)}`);
    if (options.tls.verifyClients) tls.push('  verify: true');
    lines.push(`tls {\n${tls.join('\n')}\n}`);
  }
  const users = busApps.map((app) => {
    const { publish, subscribe } = permissionsOf(app, options.subjectPrefix);
    const indent = '        ';
    return [
      '    {',
      `      user: ${quote(natsUserOf(app))}`,
      `      password: $${natsPasswordVariable(app)}`,
      '      permissions: {',
      `        publish: { allow: ${list(publish, indent)} }`,
      `        subscribe: { allow: ${list(subscribe, indent)} }`,
      '      }',
      '    }',
    ].join('\n');
  });
  lines.push(`authorization {\n  users: [\n${users.join('\n')}\n  ]\n}`);
  return `${lines.join('\n')}\n`;
}

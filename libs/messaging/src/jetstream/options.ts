import {
  defaultRegistry,
  deadLetterSubject,
  streams,
  type MessageRegistry,
  type StreamName,
} from '@roam/contracts';

/** The few logger methods the transport uses; pino and Nest loggers both fit behind it. */
export interface JetStreamLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JetStreamOptions {
  servers: string | string[];
  /** Application name: names the NATS connection and prefixes durable consumer names. */
  name: string;
  /**
   * Test isolation: the wire subject is `prefix.subject` and stream names get a `_PREFIX`
   * suffix. Handlers and publishers keep using the plain roam subjects.
   */
  subjectPrefix?: string;
  /** Deliveries before a failing message goes to the dead-letter subject. Default 5. */
  maxDeliver?: number;
  /** Nak delay by delivery count (the last entry repeats). Default 1s, 5s, 30s, 2min. */
  backoffMs?: number[];
  /** Redelivery after a handler neither acked nor nakked in time. Default 30 s. */
  ackWaitMs?: number;
  /** `Nats-Msg-Id` dedupe window of the streams. Default 10 min. */
  duplicateWindowMs?: number;
  registry?: MessageRegistry;
  /** Messages in flight per consumer. Default 32. */
  concurrency?: number;
  logger?: JetStreamLogger;
  /**
   * Longest a handler may run. While it runs its message is kept in progress (`working()`
   * every ackWait/3), so it is not redelivered; past this it is dead-lettered. Default 15 min.
   */
  maxHandlerMs?: number;
  /** Budget of one publish attempt (waiting for the stream's ack). Default 5 s. */
  publishTimeoutMs?: number;
  /** Publish attempts on a timeout or an unreachable stream. Default 3. */
  publishAttempts?: number;
  /**
   * Budget of one JetStream API request (creating streams and consumers at start-up). Default
   * 15 s: on a busy server these outlast the client's own 5 s default.
   */
  apiTimeoutMs?: number;
  /** Who the connection authenticates as; unset = anonymous (a server without authorization). */
  credentials?: NatsCredentials;
  /** TLS to the server; unset = plain TCP unless the URL says `tls://`. */
  tls?: NatsTlsOptions;
}

/** One way to authenticate: user + password, an nkey seed, or a `.creds` file (JWT + seed). */
export interface NatsCredentials {
  user?: string;
  password?: string;
  nkeySeed?: string;
  credsFile?: string;
}

/** Paths to PEM files: the CA that signed the server, and a client certificate for mutual TLS. */
export interface NatsTlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ResolvedJetStreamOptions {
  servers: string[];
  name: string;
  maxDeliver: number;
  backoffMs: number[];
  ackWaitMs: number;
  duplicateWindowMs: number;
  registry: MessageRegistry;
  concurrency: number;
  logger: JetStreamLogger;
  subjects: SubjectMapper;
  maxHandlerMs: number;
  heartbeatMs: number;
  publishTimeoutMs: number;
  publishAttempts: number;
  apiTimeoutMs: number;
  credentials?: NatsCredentials;
  tls?: NatsTlsOptions;
}

const silentLogger: JetStreamLogger = { info: () => {}, warn: () => {}, error: () => {} };

export function resolveOptions(
  options: JetStreamOptions,
  fallbackLogger: JetStreamLogger = silentLogger,
): ResolvedJetStreamOptions {
  const backoffMs = options.backoffMs ?? [1000, 5000, 30_000, 120_000];
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const resolved: ResolvedJetStreamOptions = {
    servers: Array.isArray(options.servers) ? options.servers : [options.servers],
    name: options.name,
    maxDeliver: options.maxDeliver ?? 5,
    backoffMs: backoffMs.length > 0 ? backoffMs : [0],
    ackWaitMs,
    duplicateWindowMs: options.duplicateWindowMs ?? 10 * 60_000,
    registry: options.registry ?? defaultRegistry,
    concurrency: options.concurrency ?? 32,
    logger: options.logger ?? fallbackLogger,
    subjects: new SubjectMapper(options.subjectPrefix),
    maxHandlerMs: options.maxHandlerMs ?? 15 * 60_000,
    // Three heartbeats per ack wait: one lost or late still leaves two before redelivery.
    heartbeatMs: Math.max(10, Math.floor(ackWaitMs / 3)),
    publishTimeoutMs: options.publishTimeoutMs ?? 5000,
    publishAttempts: options.publishAttempts ?? 3,
    apiTimeoutMs: options.apiTimeoutMs ?? 15_000,
    credentials: options.credentials,
    tls: options.tls,
  };
  // Fail at construction rather than on the first message: these are programming errors.
  if (!resolved.name || !/^[A-Za-z0-9_-]+$/.test(resolved.name)) {
    throw new Error(
      `JetStream option "name" must be non-empty and match [A-Za-z0-9_-]+, got "${options.name}"`,
    );
  }
  if (!Number.isInteger(resolved.maxDeliver) || resolved.maxDeliver < 1) {
    throw new Error(
      `JetStream option "maxDeliver" must be a positive integer, got ${resolved.maxDeliver}`,
    );
  }
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1) {
    throw new Error(
      `JetStream option "concurrency" must be a positive integer, got ${resolved.concurrency}`,
    );
  }
  for (const key of ['ackWaitMs', 'maxHandlerMs', 'publishTimeoutMs', 'publishAttempts'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1)
      throw new Error(`JetStream option "${key}" must be a positive integer, got ${resolved[key]}`);
  }
  if (resolved.servers.length === 0) throw new Error('JetStream option "servers" is empty');
  return resolved;
}

/**
 * Maps roam subjects to wire subjects and stream names. Only this class knows about the
 * prefix, so handlers, publishers and dead letters all speak plain roam subjects.
 */
export class SubjectMapper {
  private readonly prefix: string | undefined;

  constructor(prefix?: string) {
    if (prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(prefix)) {
      throw new Error(`JetStream subjectPrefix must match [A-Za-z0-9_-]+, got "${prefix}"`);
    }
    this.prefix = prefix || undefined;
  }

  toWire(subject: string): string {
    return this.prefix ? `${this.prefix}.${subject}` : subject;
  }

  fromWire(wireSubject: string): string {
    if (!this.prefix) return wireSubject;
    const head = `${this.prefix}.`;
    return wireSubject.startsWith(head) ? wireSubject.slice(head.length) : wireSubject;
  }

  streamName(stream: StreamName): string {
    const base = streams[stream].name;
    return this.prefix ? `${base}_${this.prefix.toUpperCase()}` : base;
  }

  streamSubjects(stream: StreamName): string[] {
    return streams[stream].subjects.map((s) => this.toWire(s));
  }

  deadLetterWire(subject: string): string {
    return this.toWire(deadLetterSubject(subject));
  }
}

/** Nak delay for the delivery that just failed (1-based); the last entry repeats. */
export function backoffFor(backoffMs: readonly number[], deliveryCount: number): number {
  const index = Math.min(Math.max(deliveryCount - 1, 0), backoffMs.length - 1);
  return backoffMs[index] ?? 0;
}

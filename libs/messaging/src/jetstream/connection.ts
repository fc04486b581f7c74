import {
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';

import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { streams, type StreamName } from '@roam/contracts';

import { resolveOptions, type JetStreamOptions, type ResolvedJetStreamOptions } from './options.js';

const MS_TO_NS = 1_000_000;

/** JetStream's "not found" API error codes for streams (10059) and consumers (10014). */
export function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === 10059 || err.code === 10014 || err.status === 404)
  );
}

/**
 * The client options of a connection. Every connection uses a private inbox root
 * (`_INBOX_<name>`): a per-app NATS user may subscribe only to its own replies, so one app
 * cannot read another's JetStream API answers or pulled messages.
 */
export function connectionOptionsOf(options: ResolvedJetStreamOptions): NodeConnectionOptions {
  const { servers, name, credentials, tls } = options;
  const connectOptions: NodeConnectionOptions = {
    servers,
    name,
    maxReconnectAttempts: -1,
    inboxPrefix: `_INBOX_${name}`,
    // Otherwise every request (each JetStream publish waits for its ack through one) builds an
    // Error up front to carry the caller's stack into a later failure: ~2% of the gateway's CPU
    // per submit. The publisher's own errors name the subject and the attempts instead.
    noAsyncTraces: true,
  };
  if (credentials?.credsFile) {
    connectOptions.authenticator = credsAuthenticator(readFileSync(credentials.credsFile));
  } else if (credentials?.nkeySeed) {
    connectOptions.authenticator = nkeyAuthenticator(
      new TextEncoder().encode(credentials.nkeySeed),
    );
  } else if (credentials?.user) {
    connectOptions.user = credentials.user;
    connectOptions.pass = credentials.password;
  }
  if (tls && (tls.caFile || tls.certFile || tls.keyFile)) {
    connectOptions.tls = {
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      ...(tls.certFile ? { certFile: tls.certFile } : {}),
      ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
    };
  }
  return connectOptions;
}

/**
 * Owns one NATS connection shared by the server, publisher and client of one process.
 * `connect()` is idempotent and memoised so every user can call it before its first use.
 */
export class JetStreamConnection {
  readonly options: ResolvedJetStreamOptions;
  private connecting: Promise<NatsConnection> | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private disconnected = false;

  constructor(options: JetStreamOptions | ResolvedJetStreamOptions) {
    this.options = 'subjects' in options ? options : resolveOptions(options);
  }

  async connect(): Promise<NatsConnection> {
    this.connecting ??= this.open().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async open(): Promise<NatsConnection> {
    const { servers, name, logger } = this.options;
    let nc: NatsConnection;
    try {
      nc = await connect(connectionOptionsOf(this.options));
    } catch (err) {
      throw new Error(`cannot reach NATS at ${servers.join(', ')}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.options.apiTimeoutMs });
    this.jsm = await jetstreamManager(nc, { timeout: this.options.apiTimeoutMs });
    void this.watchStatus(nc);
    logger.info(
      {
        servers,
        name,
        user: this.options.credentials?.user,
        tls: this.options.tls !== undefined,
      },
      'nats connected',
    );
    return nc;
  }

  /** Tracks disconnects so readiness reports false while the client reconnects. */
  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.disconnected = true;
        this.options.logger.warn({ server: status.server }, 'nats disconnected');
      } else if (status.type === 'reconnect') {
        this.disconnected = false;
        this.options.logger.info({ server: status.server }, 'nats reconnected');
      }
    }
  }

  /** The connection, for code that needs core NATS (subscriptions in tests, say). */
  get nats(): NatsConnection {
    if (!this.nc) throw new Error('JetStreamConnection used before connect()');
    return this.nc;
  }

  get client(): JetStreamClient {
    if (!this.js) throw new Error('JetStreamConnection used before connect()');
    return this.js;
  }

  get manager(): JetStreamManager {
    if (!this.jsm) throw new Error('JetStreamConnection used before connect()');
    return this.jsm;
  }

  /** For readiness probes: connected, not reconnecting, not draining or closed. */
  isHealthy(): boolean {
    return (
      this.nc !== undefined && !this.disconnected && !this.nc.isClosed() && !this.nc.isDraining()
    );
  }

  /**
   * Creates or updates ROAM_CMD, ROAM_EVT and ROAM_DLQ. Safe to run from every process at
   * boot: an existing stream is updated to this config, a racing creator is tolerated.
   */
  async ensureStreams(): Promise<void> {
    await this.connect();
    for (const stream of Object.keys(streams) as StreamName[]) {
      await this.ensureStream(this.streamConfig(stream));
    }
  }

  streamConfig(stream: StreamName): Partial<StreamConfig> & { name: string; subjects: string[] } {
    const { subjects, duplicateWindowMs } = this.options;
    return {
      name: subjects.streamName(stream),
      subjects: subjects.streamSubjects(stream),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: streams[stream].maxAgeSeconds * 1000 * MS_TO_NS,
      duplicate_window: duplicateWindowMs * MS_TO_NS,
    };
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    const jsm = this.manager;
    const { name, storage: _storage, ...mutable } = config;
    try {
      await jsm.streams.info(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(config);
        this.options.logger.info({ stream: name }, 'stream created');
        return;
      } catch (addErr) {
        // Another process created it between our info and add: fall through to update.
        if (!(addErr instanceof JetStreamApiError)) throw addErr;
      }
    }
    await jsm.streams.update(name, mutable);
  }

  /** Flushes pending publishes and acks, then closes. Idempotent. */
  async drain(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    if (!nc.isDraining()) await nc.drain();
    else await nc.closed();
  }
}

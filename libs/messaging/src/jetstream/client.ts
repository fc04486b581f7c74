import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Envelope } from '@roam/contracts';
import type { Observable } from 'rxjs';

import { JetStreamConnection } from './connection.js';
import type { JetStreamOptions } from './options.js';
import { JetStreamPublisher, type PublishResult } from './publisher.js';

const NO_REQUESTS =
  'JetStreamClient does not support request/response (send): roam commands are fire-and-forget ' +
  'events on durable streams; use emit(subject, envelope) and read results from Postgres or events';

/**
 * Nest `ClientProxy` over `JetStreamPublisher`: `emit(subject, envelope)` publishes the
 * envelope durably and the returned observable emits `{ seq, duplicate }` once the stream
 * has stored it.
 */
export class JetStreamClient extends ClientProxy {
  readonly connection: JetStreamConnection;
  readonly publisher: JetStreamPublisher;
  private ready: Promise<void> | undefined;

  constructor(options: JetStreamOptions | JetStreamConnection) {
    super();
    this.connection =
      options instanceof JetStreamConnection ? options : new JetStreamConnection(options);
    this.publisher = new JetStreamPublisher(this.connection);
  }

  /** Connects and makes sure the streams exist, so a publish-only app works on a fresh server. */
  async connect(): Promise<void> {
    this.ready ??= this.connection.ensureStreams().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async close(): Promise<void> {
    await this.connection.drain();
  }

  unwrap<T>(): T {
    return this.connection.nats as T;
  }

  override send<TResult = unknown, TInput = unknown>(
    _pattern: unknown,
    _data: TInput,
  ): Observable<TResult> {
    throw new Error(NO_REQUESTS);
  }

  protected publish(_packet: ReadPacket, _callback: (packet: WritePacket) => void): () => void {
    throw new Error(NO_REQUESTS);
  }

  protected async dispatchEvent<T = PublishResult>(packet: ReadPacket<Envelope>): Promise<T> {
    const envelope = packet.data;
    if (packet.pattern !== envelope.type) {
      throw new Error(
        `emit pattern "${String(packet.pattern)}" differs from envelope type "${envelope.type}"`,
      );
    }
    return (await this.publisher.publish(envelope)) as T;
  }
}

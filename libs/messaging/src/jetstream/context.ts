import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { BaseRpcContext } from '@nestjs/microservices';

export interface JetStreamContextArgs {
  /** The roam subject (prefix removed). */
  subject: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** `Nats-Msg-Id` of the message: the envelope id when published by roam. */
  messageId: string | undefined;
  headers: Record<string, string>;
  /** W3C trace context: the `traceparent` header, else the envelope's field. */
  traceparent: string | undefined;
  /** Durable consumer that delivered the message. */
  consumer: string;
  /** The raw message, for advanced use (e.g. `working()` in a long handler). Do not ack it: the server does. */
  message: JsMsg;
}

/** What `@Ctx()` gives a JetStream handler. */
export class JetStreamContext
  extends BaseRpcContext<[JetStreamContextArgs]>
  implements Readonly<JetStreamContextArgs>
{
  readonly subject: string;
  readonly deliveryCount: number;
  readonly messageId: string | undefined;
  readonly headers: Record<string, string>;
  readonly traceparent: string | undefined;
  readonly consumer: string;
  readonly message: JsMsg;

  constructor(args: JetStreamContextArgs) {
    super([args]);
    this.subject = args.subject;
    this.deliveryCount = args.deliveryCount;
    this.messageId = args.messageId;
    this.headers = args.headers;
    this.traceparent = args.traceparent;
    this.consumer = args.consumer;
    this.message = args.message;
  }
}

/** Headers as a plain record (first value of a repeated key), for contexts and dead letters. */
export function headersToRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const key of headers.keys()) out[key] = headers.get(key);
  return out;
}

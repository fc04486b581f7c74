// A roam event subscriber: a durable JetStream consumer of its own on roam.evt.v1.job.>.
// Run: NATS_URL=nats://127.0.0.1:4222 ROAM_DURABLE=billing node docs/events/subscriber.mjs
// It prints one JSON line per event and acks it after handling. Stopped and started again,
// it resumes after the last acked event: the server keeps the consumer's position.
//
// Settings (environment):
//   NATS_URL             NATS server(s), comma-separated        default nats://127.0.0.1:4222
//   ROAM_DURABLE         this subscriber's durable consumer name default roam-example-subscriber
//   ROAM_SUBJECT_PREFIX  the installation's NATS_SUBJECT_PREFIX  default none
//   ROAM_DELIVER         first start: `new` events only, or `all` the stream retains (14 days)
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const servers = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',');
const durable = process.env.ROAM_DURABLE ?? 'roam-example-subscriber';
const prefix = process.env.ROAM_SUBJECT_PREFIX ?? '';
const deliverAll = process.env.ROAM_DELIVER === 'all';

// roam's stream of events is ROAM_EVT; an installation with a subject prefix suffixes it.
const stream = prefix ? `ROAM_EVT_${prefix.toUpperCase()}` : 'ROAM_EVT';
const filter = `${prefix ? `${prefix}.` : ''}roam.evt.v1.job.>`;

const nc = await connect({ servers, name: `roam-subscriber-${durable}` });
const jsm = await jetstreamManager(nc);
try {
  await jsm.consumers.info(stream, durable);
} catch {
  // First start: create the consumer. Explicit acks: an event not acked comes back.
  await jsm.consumers.add(stream, {
    durable_name: durable,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: deliverAll ? DeliverPolicy.All : DeliverPolicy.New,
    ack_wait: 30_000_000_000,
  });
}
const consumer = await jetstream(nc).consumers.get(stream, durable);
const messages = await consumer.consume({ max_messages: 64 });
console.error(JSON.stringify({ ready: true, stream, durable, filter }));

const stop = async () => {
  await messages.close();
  await nc.drain();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

// Delivery is at least once: after a crash between handling and ack the same event comes
// again. Deduplicate on `id` (kept in your own store) if handling twice matters; `seq`
// orders the events of one job (`subject` = jobs/<id>).
for await (const msg of messages) {
  const event = msg.json();
  console.log(
    JSON.stringify({ id: event.id, type: event.type, subject: event.subject, seq: event.seq }),
  );
  msg.ack();
}

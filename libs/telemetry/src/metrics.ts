import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process, served at `/metrics` by every app. Names are
 * `roam_<thing>_<unit>`; labels carry bounded values only (route templates, subjects, tenant
 * ids, statuses), never job ids or raw paths. The catalogue is in docs/observability.md.
 */
export const metricsRegistry = new Registry();

let defaultsStarted = false;

/** Node process metrics (`roam_process_*`, `roam_nodejs_*`); once per process. */
export function collectProcessMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'roam_' });
}

/** The text exposition of every metric, and its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

const registers = [metricsRegistry];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const WAIT_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600];

export const metrics = {
  // HTTP (every app)
  httpRequests: new Counter({
    name: 'roam_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  httpRequestDuration: new Histogram({
    name: 'roam_http_request_duration_seconds',
    help: 'Time from request to response finished, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),

  // NATS JetStream (every app with handlers)
  messagesHandled: new Counter({
    name: 'roam_messages_handled_total',
    help: 'Messages a consumer settled, by subject and outcome (ack, nak, dead_letter).',
    labelNames: ['subject', 'outcome'] as const,
    registers,
  }),
  messageHandleDuration: new Histogram({
    name: 'roam_message_handle_duration_seconds',
    help: 'Time from delivery to settling a message, by subject and outcome.',
    labelNames: ['subject', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  messageRedeliveries: new Counter({
    name: 'roam_message_redeliveries_total',
    help: 'Deliveries after the first (a nak, an ack timeout or a crash before the ack), by subject.',
    labelNames: ['subject'] as const,
    registers,
  }),
  deadLetters: new Counter({
    name: 'roam_dead_letters_total',
    help: 'Messages moved to the dead-letter stream, by original subject.',
    labelNames: ['subject'] as const,
    registers,
  }),
  messagesPublished: new Counter({
    name: 'roam_messages_published_total',
    help: 'Messages published to JetStream (duplicates included), by subject.',
    labelNames: ['subject'] as const,
    registers,
  }),
  consumerUp: new Gauge({
    name: 'roam_consumer_up',
    help: '1 while the consumer loop of this app pulls messages, 0 while it waits to restart after dying.',
    labelNames: ['consumer'] as const,
    registers,
  }),
  consumerRestarts: new Counter({
    name: 'roam_consumer_restarts_total',
    help: 'Times a consumer loop of this app died and was restarted.',
    labelNames: ['consumer'] as const,
    registers,
  }),
  loopConsecutiveFailures: new Gauge({
    name: 'roam_loop_consecutive_failures',
    help: 'Failed passes in a row of a timer loop of this app (0 after a success), sampled.',
    labelNames: ['loop'] as const,
    registers,
  }),
  loopLastSuccess: new Gauge({
    name: 'roam_loop_last_success_timestamp_seconds',
    help: 'Unix time of the last successful pass of a timer loop of this app (0: none yet), sampled.',
    labelNames: ['loop'] as const,
    registers,
  }),
  consumerPending: new Gauge({
    name: 'roam_consumer_pending_messages',
    help: 'Messages in the stream not yet delivered to the consumer (num_pending), sampled; one series per consumer of this app.',
    labelNames: ['stream', 'consumer'] as const,
    registers,
  }),
  consumerAckPending: new Gauge({
    name: 'roam_consumer_ack_pending_messages',
    help: 'Messages delivered and not yet acknowledged (num_ack_pending), sampled.',
    labelNames: ['stream', 'consumer'] as const,
    registers,
  }),

  // Outbox (every app that writes state)
  outboxPublished: new Counter({
    name: 'roam_outbox_published_total',
    help: 'Outbox messages published right after their transaction committed.',
    registers,
  }),
  outboxRelayed: new Counter({
    name: 'roam_outbox_relayed_total',
    help: 'Outbox messages published by the relay (left behind by a failed or interrupted dispatch).',
    registers,
  }),
  outboxPublishFailures: new Counter({
    name: 'roam_outbox_publish_failures_total',
    help: 'Failed outbox publishes, by path (dispatch: left for the relay; relay: attempt counted on the row).',
    labelNames: ['path'] as const,
    registers,
  }),
  outboxBacklog: new Gauge({
    name: 'roam_outbox_backlog_messages',
    help: 'Outbox rows not yet published (whole installation; every app reports the same table, use max()).',
    registers,
  }),
  outboxOldestAge: new Gauge({
    name: 'roam_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row, 0 when there is none.',
    registers,
  }),

  // Scheduler
  admissionCycleDuration: new Histogram({
    name: 'roam_admission_cycle_duration_seconds',
    help: 'Duration of one admission cycle (snapshot, decide, write, create Kubernetes Jobs), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  jobsAdmitted: new Counter({
    name: 'roam_jobs_admitted_total',
    help: 'Jobs admitted, by tenant.',
    labelNames: ['tenant'] as const,
    registers,
  }),
  queueDepth: new Gauge({
    name: 'roam_queue_depth_jobs',
    help: 'Jobs waiting for admission at the end of the last cycle, by tenant (of ADMISSION_MAX_PENDING read).',
    labelNames: ['tenant'] as const,
    registers,
  }),
  admissionWait: new Histogram({
    name: 'roam_admission_wait_seconds',
    help: 'Time from submit (or from a retry falling due) to admission.',
    buckets: WAIT_BUCKETS,
    registers,
  }),

  // Reconciler
  reconcileBatchDuration: new Histogram({
    name: 'roam_reconcile_batch_duration_seconds',
    help: 'Duration of one reconcile batch (load, plan, apply, delete Jobs).',
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  reconcileLag: new Histogram({
    name: 'roam_reconcile_lag_seconds',
    help: 'Time from a Kubernetes watch event about a job to its state change being committed.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  }),
  jobTransitions: new Counter({
    name: 'roam_job_transitions_total',
    help: 'Job state changes the reconciler applied, by event and the phase entered.',
    labelNames: ['event', 'phase'] as const,
    registers,
  }),
  jobs: new Gauge({
    name: 'roam_jobs',
    help: 'Jobs by status and tenant, from a periodic grouped count (reported by the reconciler only).',
    labelNames: ['status', 'tenant'] as const,
    registers,
  }),

  kubeJobDeletionsDeferred: new Counter({
    name: 'roam_kube_job_deletions_deferred_total',
    help: 'Times the reconciler kept a Kubernetes Job due for deletion until its logs and results are stored.',
    registers,
  }),

  // Storage
  storageBacklogJobs: new Gauge({
    name: 'roam_storage_backlog_jobs',
    help: 'Finished jobs whose logs and results the storage worker has not stored yet (sampled; every storage replica reports the same table, use max()).',
    registers,
  }),
  storageBacklogAge: new Gauge({
    name: 'roam_storage_backlog_oldest_age_seconds',
    help: 'Time since the oldest finished, not yet stored job finished; 0 when the backlog is empty.',
    registers,
  }),
  storageJobsStored: new Counter({
    name: 'roam_storage_jobs_stored_total',
    help: 'Finished jobs the storage worker stored (logs archived, results collected or their failure recorded).',
    registers,
  }),
  storageDuration: new Histogram({
    name: 'roam_storage_job_duration_seconds',
    help: 'Time to store one finished job (its logs not archived yet, and its results).',
    buckets: LATENCY_BUCKETS,
    registers,
  }),

  // Offload, webhooks, failover: incremented by those workers.
  offloadSpendMicros: new Counter({
    name: 'roam_offload_spend_usd_micros_total',
    help: 'Money spent on offloaded (RunPod) capacity, in millionths of a US dollar, by tenant.',
    labelNames: ['tenant'] as const,
    registers,
  }),
  webhookDeliveries: new Counter({
    name: 'roam_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by result (delivered, retry, failed, disabled).',
    labelNames: ['result'] as const,
    registers,
  }),
  webhookDeliveryDuration: new Histogram({
    name: 'roam_webhook_delivery_duration_seconds',
    help: 'Time a webhook endpoint took to answer one attempt, by result.',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  webhookUntrustedEvents: new Counter({
    name: 'roam_webhook_untrusted_events_total',
    help: 'Bus events the notifier did not deliver as sent: unknown (never committed, dropped) or altered (tenant or type differ; the committed event is delivered).',
    labelNames: ['reason'] as const,
    registers,
  }),
  eventFeedStalled: new Gauge({
    name: 'roam_event_feed_stalled_seconds',
    help: 'How long committed events have waited behind a database transaction still open (the gateway event feed does not pass it); 0 when none wait.',
    registers,
  }),
  secretsResealed: new Counter({
    name: 'roam_secrets_resealed_total',
    help: 'Stored secrets re-encrypted under the primary key of ROAM_SECRETS_KEYS (plaintext or older key before), by table.',
    labelNames: ['table'] as const,
    registers,
  }),
  secretsUnreadable: new Gauge({
    name: 'roam_secrets_unreadable_rows',
    help: 'Rows the last re-encryption pass could not decrypt (their key is not configured); 0 when all open.',
    registers,
  }),
  failoverActions: new Counter({
    name: 'roam_failover_actions_total',
    help: 'Failover actions taken, by action and result.',
    labelNames: ['action', 'result'] as const,
    registers,
  }),
} as const;

export type RoamMetrics = typeof metrics;

/** Seconds elapsed since `start` (a `performance.now()` reading), for histograms. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

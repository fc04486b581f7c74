import { z } from 'zod';

/*
 * The answer of `GET /api/v1/jobs/{id}/explain`, as a schema: the OpenAPI document shows it and
 * `ExplainView` is inferred from it. `blocker` and `reason` mirror the domain's `Blocker` and
 * `WaitReason`; `JobExplainService` assigns those to an `ExplainView`, so a domain change that
 * the schema does not follow fails to compile.
 */

const resources = z
  .object({ cpuMillis: z.number(), memoryBytes: z.number(), gpu: z.number() })
  .meta({ id: 'SchedulingResources' });
const resourceName = z.enum(['cpuMillis', 'memoryBytes', 'gpu']);
/** A quota may also be of TPU chips (`max_tpu`). */
const quotaResourceName = z.enum(['cpuMillis', 'memoryBytes', 'gpu', 'tpu']);
const reservation = z
  .object({
    jobId: z.string().optional(),
    tenantId: z.string().optional(),
    node: z.string(),
  })
  .describe('A node held for a starving job: which job only when it is one of yours.');

const neverFitsReason = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('quota'),
    resource: quotaResourceName,
    requested: z.number(),
    limit: z.number(),
    message: z.string(),
  }),
  z.object({ kind: z.literal('concurrency'), limit: z.number(), message: z.string() }),
  z.object({
    kind: z.literal('node'),
    resource: resourceName,
    requested: z.number(),
    largest: z.object({ node: z.string(), allocatable: z.number() }),
    message: z.string(),
  }),
  z.object({ kind: z.literal('noSingleNode'), requested: resources, message: z.string() }),
  z.object({ kind: z.literal('noMatchingNode'), message: z.string() }),
]);

const blocker = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('concurrency'), active: z.number(), limit: z.number() }),
    z.object({
      kind: z.literal('quota'),
      shortfalls: z.array(
        z.object({
          resource: quotaResourceName,
          used: z.number(),
          limit: z.number(),
          needed: z.number(),
          gpuType: z
            .string()
            .optional()
            .describe(
              'Set when the limit is the quota of one GPU type, or with `tpu` one TPU type.',
            ),
          cohort: z
            .string()
            .optional()
            .describe("Set when the limit is the cohort's pool of its members' guarantees."),
          borrowing: z
            .number()
            .optional()
            .describe("Set when the limit is the tenant's guarantee plus this borrowing limit."),
        }),
      ),
    }),
    z.object({
      kind: z.literal('capacity'),
      needed: resources,
      best: z
        .object({ node: z.string(), free: resources })
        .optional()
        .describe('The usable node closest to fitting the job, if any could hold it.'),
      unavailable: z
        .array(z.string())
        .describe('Nodes large enough but cordoned, NotReady or tainted right now.'),
      reservation: reservation.optional(),
      gang: z
        .object({
          sets: z.array(
            z.object({
              name: z.string(),
              count: z.number().describe('Pods of this set the job needs at once.'),
              room: z.number().describe('How many of them the cluster has room for now.'),
            }),
          ),
          reserved: z.array(z.string()).describe('Nodes held for this gang while it starves.'),
        })
        .optional()
        .describe('For a multi-pod job (a gang): room for each pod set, all pods or none.'),
    }),
    z.object({ kind: z.literal('unschedulable'), reasons: z.array(neverFitsReason) }),
    z.object({ kind: z.literal('olderJob'), jobId: z.string() }),
    z.object({ kind: z.literal('offload') }),
    z.object({ kind: z.literal('unknownTenant') }),
  ])
  .describe('The constraint that keeps the job out, with its numbers.')
  .meta({ id: 'AdmissionBlocker' });

export const explainViewSchema = z
  .object({
    job_id: z.uuid(),
    status: z.string(),
    phase: z.string(),
    pending: z
      .boolean()
      .describe('Whether the job is waiting for admission; the fields below are about that wait.'),
    decided_at: z
      .string()
      .optional()
      .describe(
        'When the admission decision this answer comes from was taken; one decision answers every caller for EXPLAIN_CACHE_MS.',
      ),
    summary: z.string().describe('One sentence.'),
    last_preemption: z
      .object({ at: z.string(), message: z.string() })
      .optional()
      .describe(
        'When the job was last preempted, and by which job and why (docs/scheduling.md#borrowing); it was requeued without using a retry.',
      ),
    restarts: z
      .object({ count: z.number().int(), message: z.string() })
      .optional()
      .describe(
        "For a JobSet its failure policy restarted: how many times over all attempts, and what that means; a restart recreates every pod within the same attempt and uses none of roam's retries.",
      ),
    admitted: z.boolean().optional().describe('True when the next scheduler cycle admits it.'),
    node: z.string().optional().describe('Where it would be placed, when admitted.'),
    reason: z
      .enum([
        'ConcurrencyLimit',
        'WaitingForQuota',
        'InsufficientCapacity',
        'Unschedulable',
        'WaitingForOlderJob',
        'Offload',
        'UnknownTenant',
        'CapacityUnavailable',
      ])
      .optional()
      .describe(
        'Why it waits. CapacityUnavailable: every node that could take it is cordoned or NotReady (a failover action, say); an offload-allowed job is offered to RunPod at once.',
      ),
    blocker: blocker.optional(),
    position: z
      .object({
        tenant: z.number().int(),
        tenantWaiting: z.number().int(),
        global: z.number().int(),
        globalWaiting: z.number().int(),
        otherTenantsAhead: z
          .number()
          .int()
          .describe('Jobs of other tenants that fair share admits before this one.'),
      })
      .optional()
      .describe('1-based place in the tenant’s queue and in the global admission order.'),
    unblock: z
      .array(z.string())
      .optional()
      .describe('Each of these, on its own, would let the job move.'),
    admission: z
      .enum(['roam', 'kueue'])
      .optional()
      .describe('`kueue` when Kueue decides admission (ROAM_ADMISSION=kueue).'),
    kueue: z
      .object({
        workload: z.string(),
        local_queue: z.string(),
        reason: z.string().describe("The Workload's QuotaReserved (or Evicted) reason."),
        message: z.string(),
        position_in_local_queue: z
          .number()
          .int()
          .optional()
          .describe("0-based, from Kueue's visibility API when the cluster serves it."),
        position_in_cluster_queue: z.number().int().optional(),
      })
      .optional()
      .describe("What the job's Kueue Workload says, when Kueue decides admission."),
  })
  .meta({ id: 'JobExplanation' });
export type ExplainView = z.output<typeof explainViewSchema>;

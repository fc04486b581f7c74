import { setTimeout as delay } from 'node:timers/promises';

import { Inject, Injectable } from '@nestjs/common';
import { type JobSpec, type JobStatus, replicaOf } from '@roam/contracts';
import { namespaceFor } from '@roam/domain';
import {
  isNotFound,
  Kube,
  type KubernetesObject,
  REPLICA_POD_LABELS,
  ROAM_LABELS,
} from '@roam/kube';
import { replicaLogKey } from '@roam/object-store';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';

import { ArchiveLogSource } from './archive-log-source.js';
import { type JobForLogs, JobLogsRepository } from './job-logs.repository.js';
import { KubernetesLogSource } from './kubernetes-log-source.js';
import { formatLine, keepSince, type LogLine, sinceSecondsOf } from './log-lines.js';
import {
  ContainerNotStarted,
  type LogLocation,
  type LogReadOptions,
  type LogUnavailableReason,
} from './log-source.js';

/** How often a follow request re-checks whether a pending job's pod exists. */
const FOLLOW_START_POLL_MS = 250;

/** Labels the scheduler puts on every Kubernetes Job and pod of a roam job. */

/** How often a follower re-checks a pod whose container has not started yet. */
const CONTAINER_WAIT_MS = 250;

export type Pod = KubernetesObject & {
  spec?: { containers?: { name: string }[]; nodeName?: string };
  status?: { phase?: string };
};

export interface LogRequest {
  /** Defaults to the job's latest attempt. */
  attempt?: number;
  tail?: number;
  /** Seconds back from now, or an instant. */
  since?: number | Date;
  timestamps: boolean;
}

/** A job's log, located: which attempt, which pod (if any), and where to read it. */
export interface LocatedLog {
  jobId: string;
  tenantId: string;
  attempt: number;
  status: JobStatus;
  podName: string | null;
  location: LogLocation;
  /** One replica of a multi-pod job (`?replica=`), when asked for. */
  replica?: string;
}

export interface LogEnd {
  /** Set when nothing could be read, saying why. */
  reason?: LogUnavailableReason;
}

const jobNotFound = (id: string) =>
  new ProblemError(404, problemTypes.notFound, 'Not found', `job ${id} not found`);

function offloaded(placement: unknown): boolean {
  return placement !== null && typeof placement === 'object' && 'runpod_pod_id' in placement;
}

function placedPod(placement: unknown): string | undefined {
  if (placement === null || typeof placement !== 'object') return undefined;
  const pod = (placement as { pod?: unknown }).pod;
  return typeof pod === 'string' && pod !== '' ? pod : undefined;
}

/** 404 for a `?replica=` the job does not have (logs and results answer alike). */
export function noSuchReplica(jobId: string, replica: string): never {
  throw new ProblemError(
    404,
    problemTypes.notFound,
    'Not found',
    `job ${jobId} has no replica "${replica}" (an indexed job's replicas are 0, 1, …; a JobSet's <replicated job>-<index>, e.g. worker-0)`,
  );
}

/**
 * The label selector of one replica's pods (`3` of an indexed Job, `worker-1` of a JobSet); 404
 * when the job has no such replica (a single-pod job has none).
 */
function replicaSelector(job: JobForLogs, replica: string): string {
  const ref = replicaOf(job.spec as JobSpec, replica) ?? noSuchReplica(job.id, replica);
  return ref.kind === 'indexed'
    ? `${REPLICA_POD_LABELS.completionIndex}=${ref.index}`
    : `${REPLICA_POD_LABELS.replicatedJob}=${ref.replicatedJob},${REPLICA_POD_LABELS.jobIndex}=${ref.index}`;
}

/**
 * Finds where a job attempt's log lives and reads or follows it: the pod while it exists
 * (Kubernetes), the object-storage archive once the pod is gone, nothing before the pod exists.
 */
@Injectable()
export class LogsService {
  constructor(
    private readonly jobs: JobLogsRepository,
    private readonly kube: Kube,
    private readonly kubernetes: KubernetesLogSource,
    private readonly archive: ArchiveLogSource,
    @Inject(APP_CONFIG)
    private readonly config: {
      LOGS_FOLLOW_START_WAIT_MS: number;
      LOGS_MAX_TAIL_LINES: number;
      LOGS_MAX_BYTES: number;
    },
  ) {}

  /** Refuses a `tail` over LOGS_MAX_TAIL_LINES (a tail read holds that many lines). */
  assertBounded(request: LogRequest): void {
    const max = this.config.LOGS_MAX_TAIL_LINES;
    if (request.tail === undefined || request.tail <= max) return;
    throw new ProblemError(
      400,
      problemTypes.validation,
      'Request validation failed',
      `query: tail: must be at most ${max} (LOGS_MAX_TAIL_LINES)`,
      { errors: [{ path: 'tail', message: `must be at most ${max}` }] },
    );
  }

  /** The most bytes one read without follow returns. */
  get maxReadBytes(): number {
    return this.config.LOGS_MAX_BYTES;
  }

  async locate(
    tenantId: string,
    jobId: string,
    attempt?: number,
    replica?: string,
  ): Promise<LocatedLog> {
    const job = await this.jobs.find(tenantId, jobId);
    if (!job) throw jobNotFound(jobId);
    const selector = replica === undefined ? undefined : replicaSelector(job, replica);
    const wanted = attempt ?? job.attempt;
    if (wanted > job.attempt) {
      throw new ProblemError(
        404,
        problemTypes.notFound,
        'Not found',
        `job ${jobId} has no attempt ${wanted} (latest is ${job.attempt})`,
      );
    }
    const base = {
      jobId,
      tenantId,
      attempt: wanted,
      status: job.status,
      ...(replica !== undefined ? { replica } : {}),
    };
    // An offloaded run's pod in Kubernetes is only a stand-in: its log is archived by the
    // offload worker when the RunPod pod ends.
    const pod = offloaded(job.placement) ? undefined : await this.findPod(job, wanted, selector);
    if (pod) {
      return {
        ...base,
        podName: pod.metadata!.name!,
        location: {
          kind: 'kubernetes',
          namespace: pod.metadata!.namespace!,
          pod: pod.metadata!.name!,
          container: pod.spec?.containers?.[0]?.name ?? '',
        },
      };
    }
    // A multi-pod attempt's archive keeps each replica's log beside the whole one
    // (docs/storage.md#logs); a replica that had no pod in the attempt has none.
    const archived = await this.jobs.archiveKey(tenantId, jobId, wanted);
    const storageKey =
      archived && replica !== undefined
        ? replicaLogKey(tenantId, jobId, wanted, replica)
        : archived;
    if (storageKey && (replica === undefined || (await this.archive.has(storageKey))))
      return { ...base, podName: null, location: { kind: 'archive', storageKey } };
    const reason: LogUnavailableReason =
      job.status === 'pending' && wanted === job.attempt
        ? 'not-started'
        : job.status === 'running' && wanted === job.attempt
          ? 'pod-not-found'
          : 'pod-gone';
    return { ...base, podName: null, location: { kind: 'none', reason } };
  }

  /**
   * A client may follow right after submitting: wait (up to LOGS_FOLLOW_START_WAIT_MS) for a
   * pending job's pod, then follow it; a job that has still not started is a 409.
   */
  async untilFollowable(log: LocatedLog, signal?: AbortSignal): Promise<LocatedLog> {
    const deadline = Date.now() + this.config.LOGS_FOLLOW_START_WAIT_MS;
    let current = log;
    while (
      current.location.kind === 'none' &&
      current.location.reason === 'not-started' &&
      Date.now() < deadline &&
      !signal?.aborted
    ) {
      await delay(FOLLOW_START_POLL_MS);
      current = await this.locate(log.tenantId, log.jobId, log.attempt, log.replica);
    }
    this.assertFollowable(current);
    return current;
  }

  /** Follow is refused before the job has a pod: there is nothing to attach to yet. */
  assertFollowable(log: LocatedLog): void {
    if (log.location.kind === 'none' && log.location.reason === 'not-started') {
      throw new ProblemError(
        409,
        problemTypes.conflict,
        'Conflict',
        `job ${log.jobId} has not started yet (status ${log.status}); follow its log once it is running, or read it without follow`,
        { job_status: log.status },
      );
    }
  }

  /** The whole (or tailed) log as text, one `\n` after every line, cut at LOGS_MAX_BYTES. */
  async read(
    log: LocatedLog,
    request: LogRequest,
  ): Promise<{ text: string; truncated: boolean } & LogEnd> {
    const chunks: string[] = [];
    const end = await this.readInto(
      log,
      request,
      (text) => chunks.push(text),
      new AbortController().signal,
    );
    return { text: chunks.join(''), ...end };
  }

  /**
   * Reads without follow, handing `write` each line with its `\n` as it comes, so nothing but
   * a `tail` (at most LOGS_MAX_TAIL_LINES lines) is held. Stops reading once LOGS_MAX_BYTES
   * would be passed and says so with `truncated`.
   */
  async readInto(
    log: LocatedLog,
    request: LogRequest,
    write: (text: string) => void,
    signal: AbortSignal,
  ): Promise<{ truncated: boolean } & LogEnd> {
    this.assertBounded(request);
    const max = this.config.LOGS_MAX_BYTES;
    const cut = new AbortController();
    let bytes = 0;
    let truncated = false;
    const end = await this.stream(
      log,
      request,
      false,
      (line) => {
        if (truncated) return;
        const text = `${line}\n`;
        bytes += Buffer.byteLength(text);
        if (bytes > max) {
          truncated = true;
          cut.abort();
          return;
        }
        write(text);
      },
      AbortSignal.any([signal, cut.signal]),
    );
    return { ...end, truncated };
  }

  /**
   * Calls `onLine` with every formatted line. With `follow` it lasts until the container ends
   * (or `signal` aborts, which closes the Kubernetes stream), waiting first if the container
   * has not started.
   */
  async stream(
    log: LocatedLog,
    request: LogRequest,
    follow: boolean,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<LogEnd> {
    const now = new Date();
    let since =
      request.since === undefined
        ? undefined
        : request.since instanceof Date
          ? request.since
          : new Date(now.getTime() - request.since * 1000);
    if (request.tail === 0) {
      // Kubernetes reads tailLines=0 as "no limit"; zero lines means only lines from now on.
      if (!follow) return {};
      if (!since || since.getTime() < now.getTime()) since = now;
    }
    if (since && since.getTime() > now.getTime() && !follow) return {};
    const options: LogReadOptions = {
      tailLines: request.tail === 0 ? undefined : request.tail,
      sinceSeconds: since ? sinceSecondsOf(since, now) : undefined,
      follow,
    };
    const emit = (line: LogLine) => {
      if (keepSince(line, since)) onLine(formatLine(line, request.timestamps));
    };
    let location = log.location;
    for (;;) {
      switch (location.kind) {
        case 'none':
          return { reason: location.reason };
        case 'archive':
          await this.archive.stream(location, options, emit, signal);
          return {};
        case 'kubernetes':
          try {
            await this.kubernetes.stream(location, options, emit, signal);
            return {};
          } catch (error) {
            if (isNotFound(error)) {
              // The pod went away between locating and reading: try the archive.
              location = (await this.locate(log.tenantId, log.jobId, log.attempt, log.replica))
                .location;
              if (location.kind === 'kubernetes') throw error;
              continue;
            }
            if (!(error instanceof ContainerNotStarted)) throw error;
            if (!follow) return { reason: 'container-waiting' };
          }
          await delay(CONTAINER_WAIT_MS, undefined, { signal }).catch(() => undefined);
          if (signal.aborted) return {};
          location = (await this.locate(log.tenantId, log.jobId, log.attempt, log.replica))
            .location;
      }
    }
  }

  /** The job's status now (for the SSE `end` event). */
  async statusOf(log: LocatedLog): Promise<JobStatus> {
    return (await this.jobs.status(log.tenantId, log.jobId)) ?? log.status;
  }

  private async findPod(
    job: JobForLogs,
    attempt: number,
    replica?: string,
  ): Promise<Pod | undefined> {
    const namespace = namespaceFor(job.tenantId);
    const placed = attempt === job.attempt && !replica ? placedPod(job.placement) : undefined;
    if (placed) {
      const pod = await this.kube.get<Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        name: placed,
        namespace,
      });
      // The label check keeps a stale or wrong placement from showing another job's pod.
      if (pod?.metadata?.labels?.[ROAM_LABELS.jobId] === job.id) return pod;
    }
    const { items } = await this.kube.list<Pod>('v1', 'Pod', {
      namespace,
      labelSelector: `${ROAM_LABELS.jobId}=${job.id},${ROAM_LABELS.attempt}=${attempt}${replica ? `,${replica}` : ''}`,
    });
    // A Job with retries inside Kubernetes may leave several pods: the newest one is current.
    const created = (pod: Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
    return items.sort((a, b) => created(b) - created(a))[0];
  }
}

import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { metrics } from '@roam/telemetry';
import { chooseGpu, costMicros, type GpuChoice, type GpuPolicy } from '@roam/domain';
import { Kube, KUEUE_QUEUE_LABEL } from '@roam/kube';
import { logKey, type ObjectStore, presignJobFiles } from '@roam/object-store';
import { APP_CONFIG, LOGGER, OBJECT_STORE } from '@roam/runtime';
import { exitCodeOf, type RunPod, RunPodError, type RunPodPod } from '@roam/runpod';
import type { Logger } from 'pino';

import {
  type ContainerSpec,
  gpuCountOf,
  type KubeJob,
  type OffloadFiles,
  podStatus,
  RUNPOD as ANN,
  runpodPodInput,
  virtualNode,
  virtualPod,
} from './kube-objects.js';
import type { OffloadConfig } from './offload.config.js';
import { micros, OffloadRepository, type OffloadRow } from './offload.repository.js';
import { RUNPOD } from './runpod.provider.js';

const jobRef = (namespace: string, name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  namespace,
  name,
});
/** A merge patch body for a Job: the port sends the patch as the object, so it names the Job too. */
const jobPatch = (
  namespace: string,
  name: string,
  annotations?: Record<string, string | null>,
  spec?: Record<string, unknown>,
) => ({
  metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
  ...(spec ? { spec } : {}),
});

/** What to offload: a Kubernetes Job (roam's or anyone's), and the roam job behind it if any. */
export interface OffloadTarget {
  job: KubeJob;
  roam?: { jobId: string; tenantId: string; seq: number; name: string; attempt: number };
  why: string;
}

/** The use cases: offload one Job, follow a RunPod pod to its end, terminate, repair. */
@Injectable()
export class OffloadService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: OffloadConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RUNPOD) private readonly runpod: RunPod,
    private readonly kube: Kube,
    private readonly repo: OffloadRepository,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
  ) {}

  policyFor(tenantId?: string): GpuPolicy {
    const t = tenantId ? this.config.OFFLOAD_TENANT_POLICIES[tenantId] : undefined;
    const c = this.config;
    return {
      maxPricePerHour: Math.min(c.MAX_GPU_PRICE, t?.maxGpuPrice ?? Infinity),
      allowGpuTypes: t?.allowGpuTypes ?? c.OFFLOAD_ALLOW_GPU_TYPES,
      denyGpuTypes: [...(c.OFFLOAD_DENY_GPU_TYPES ?? []), ...(t?.denyGpuTypes ?? [])],
      allowDataCenters: t?.allowDataCenters ?? c.OFFLOAD_ALLOW_DATA_CENTERS,
      denyDataCenters: [...(c.OFFLOAD_DENY_DATA_CENTERS ?? []), ...(t?.denyDataCenters ?? [])],
    };
  }

  async choose(job: KubeJob, tenantId?: string): Promise<GpuChoice> {
    const container = job.spec?.template?.spec?.containers?.[0];
    const memory = Number(
      job.metadata?.annotations?.[ANN.requiredGpuMemory] ??
        job.spec?.template?.metadata?.annotations?.[ANN.requiredGpuMemory] ??
        0,
    );
    const cloud = this.config.RUNPOD_CLOUD_TYPE;
    const offers = (await this.runpod.gpuTypes()).map((g) => ({
      id: g.id,
      memoryInGb: g.memoryInGb,
      pricePerGpuHour: cloud === 'COMMUNITY' ? g.communityPrice : g.securePrice,
      dataCenters: g.dataCenters,
    }));
    return chooseGpu(
      offers,
      { gpuCount: gpuCountOf(container), minMemoryGb: Number.isFinite(memory) ? memory : 0 },
      this.policyFor(tenantId),
    );
  }

  /**
   * Tells a Kubernetes Job why it is still here (an annotation, written only when it changes).
   * A waiting roam job has no Kubernetes Job yet: the offload loop notes its reason in Postgres.
   */
  async noteNotOffloaded(target: OffloadTarget, why: string): Promise<void> {
    const meta = target.job.metadata ?? {};
    if (target.roam || meta.annotations?.[ANN.reason] === why || !meta.namespace || !meta.name)
      return;
    await this.kube
      .mergePatch(
        jobRef(meta.namespace, meta.name),
        jobPatch(meta.namespace, meta.name, { [ANN.status]: 'Pending', [ANN.reason]: why }),
      )
      .catch((error: unknown) =>
        this.logger.warn({ err: error, job: meta.name }, 'could not annotate the Job'),
      );
  }

  async offload(target: OffloadTarget, choice: Extract<GpuChoice, { ok: true }>): Promise<void> {
    const { job } = target;
    const namespace = job.metadata?.namespace ?? '';
    const name = job.metadata?.name ?? '';
    const id = randomUUID();
    const log = this.logger.child({
      offloadId: id,
      namespace,
      job: name,
      jobId: target.roam?.jobId,
      tenantId: target.roam?.tenantId,
    });
    const reserved = await this.repo.reserve(
      {
        id,
        jobId: target.roam?.jobId ?? null,
        tenantId: target.roam?.tenantId ?? null,
        kubeNamespace: namespace,
        kubeJobName: name,
        gpuType: choice.gpuTypeId,
        dataCenter: choice.dataCenterIds[0] ?? null,
        pricePerHourMicros: micros(choice.pricePerHour),
      },
      target.roam ? { ...target.roam, why: `${target.why}; ${choice.why}` } : undefined,
    );
    if (!reserved) return;
    if (target.roam) await this.leaveKueue(namespace, name);
    // The Job must not also run here: suspended, its pending pod goes and none is made.
    const current = target.roam
      ? ((await this.kube.createOrAdopt(job as never)).object as KubeJob)
      : job;
    if (current.metadata?.labels?.[KUEUE_QUEUE_LABEL])
      throw new Error(`the Kueue Job ${namespace}/${name} is still being deleted; will retry`);
    if (!current.spec?.suspend)
      await this.kube.mergePatch(
        jobRef(namespace, name),
        jobPatch(namespace, name, undefined, { suspend: true }),
      );
    const container = current.spec?.template?.spec?.containers?.[0] ?? { name: 'main' };
    let pod: RunPodPod;
    try {
      pod = await this.runpod.createPod(
        runpodPodInput({
          offloadId: id,
          container,
          env: await this.resolveEnv(namespace, container),
          podAnnotations: current.spec?.template?.metadata?.annotations ?? {},
          gpuTypeIds: [choice.gpuTypeId, ...choice.fallbacks],
          gpuCount: gpuCountOf(container),
          dataCenterIds: choice.dataCenterIds,
          cloudType: this.config.RUNPOD_CLOUD_TYPE,
          ...(target.roam ? await this.filesOf(target.roam, current) : {}),
        }),
      );
    } catch (error) {
      // A refused create made nothing; a timed-out one may have: the repair pass looks for the tag.
      if (!(error instanceof RunPodError) || error.status >= 500) throw error;
      log.warn({ err: error }, 'RunPod refused the pod');
      await this.giveBack(
        {
          id,
          jobId: target.roam?.jobId ?? null,
          kubeNamespace: namespace,
          kubeJobName: name,
        } as OffloadRow,
        error.message,
        !!target.roam,
      );
      return;
    }
    if (this.config.OFFLOAD_TEST_CRASH_POINT === 'after-runpod-create') {
      log.warn({ podId: pod.id }, 'test crash point: stopping dead before recording the pod');
      await new Promise<never>(() => undefined);
    }
    await this.adopt(
      {
        id,
        jobId: target.roam?.jobId ?? null,
        tenantId: target.roam?.tenantId ?? null,
        kubeNamespace: namespace,
        kubeJobName: name,
        gpuType: choice.gpuTypeId,
        dataCenter: null,
        pricePerHourMicros: micros(choice.pricePerHour),
        runpodPodId: null,
        state: 'creating',
        startedAt: null,
        createdAt: new Date(),
      },
      pod,
    );
    log.info(
      {
        podId: pod.id,
        gpuType: pod.gpuTypeId,
        pricePerHour: pod.costPerHr,
        why: target.why,
        choice: choice.why,
      },
      'offloaded to RunPod',
    );
  }

  /**
   * ROAM_ADMISSION=kueue: a roam job offloaded while it waited in Kueue has a suspended Job in
   * its LocalQueue. It goes, and its Workload with it (owned by the Job), so Kueue can never
   * admit and run it beside the RunPod pod; the offload's own Job takes its name.
   */
  private async leaveKueue(namespace: string, name: string): Promise<void> {
    const existing = await this.kube.get<KubeJob>(jobRef(namespace, name));
    if (!existing?.metadata?.labels?.[KUEUE_QUEUE_LABEL]) return;
    await this.kube.delete(jobRef(namespace, name), 'Background');
    this.logger.info({ namespace, job: name }, 'deleted the Kueue Job of an offloaded job');
  }

  /** Records a RunPod pod on its reserved row and shows it in Kubernetes (also the crash repair). */
  async adopt(row: OffloadRow, pod: RunPodPod): Promise<void> {
    const startedAt = pod.lastStartedAt ? new Date(pod.lastStartedAt) : new Date();
    const gpuType = pod.gpuTypeId ?? row.gpuType;
    const price = pod.costPerHr > 0 ? micros(pod.costPerHr) : row.pricePerHourMicros;
    await this.repo.recordCreated(
      row.id,
      pod.id,
      price,
      pod.dataCenterId ?? row.dataCenter,
      startedAt,
      row.jobId,
      gpuType,
    );
    const job = await this.kube.get<KubeJob & { apiVersion: string; kind: string }>(
      jobRef(row.kubeNamespace, row.kubeJobName),
    );
    if (!job) return; // deleted meanwhile: the cleanup pass terminates the pod
    await this.kube.createOrAdopt(virtualNode(this.config.VIRTUAL_NODE_NAME) as never);
    const manifest = virtualPod({
      job,
      offloadId: row.id,
      runpodPodId: pod.id,
      gpuType,
      nodeName: this.config.VIRTUAL_NODE_NAME,
    });
    await this.kube.createOrAdopt(manifest as never);
    await this.patchPodStatus(
      row.kubeNamespace,
      manifest.metadata.name,
      podStatus('Running', startedAt, undefined, undefined, manifest.spec.containers[0]!.name),
    );
    await this.kube.mergePatch(
      jobRef(row.kubeNamespace, row.kubeJobName),
      jobPatch(row.kubeNamespace, row.kubeJobName, {
        [ANN.podId]: pod.id,
        [ANN.gpuType]: gpuType,
        [ANN.pricePerHour]: String(Number(price) / 1e6),
        [ANN.dataCenter]: pod.dataCenterId ?? '',
        [ANN.offloadId]: row.id,
        [ANN.status]: 'Running',
        [ANN.reason]: null,
      }),
    );
  }

  /** Follows one running offload: done when RunPod says the container exited or the pod is gone. */
  async follow(row: OffloadRow): Promise<void> {
    if (!row.runpodPodId) return;
    const pod = await this.runpod.getPod(row.runpodPodId);
    if (pod?.desiredStatus === 'RUNNING') return;
    const endedAt = new Date();
    const exitCode = pod ? (exitCodeOf(pod) ?? null) : null;
    const state = pod && exitCode === 0 ? 'succeeded' : 'failed';
    const message = pod
      ? `RunPod pod ${pod.id} exited with code ${exitCode ?? 'unknown'}`
      : `RunPod pod ${row.runpodPodId} is gone`;
    // Its log is read before the pod is terminated (a terminated pod's log is gone).
    const log = pod ? await this.runpod.logs(pod.id).catch(() => '') : '';
    // Nothing left billing: an exited pod still holds its disk until terminated.
    if (pod) await this.runpod.terminatePod(pod.id);
    // Archived before the job is marked finished, so a finished job's log is always there.
    await this.archiveLog(row, log);
    const cost = costMicros(row.pricePerHourMicros, row.startedAt ?? endedAt, endedAt);
    if (!(await this.repo.finish(row, { state, exitCode, endedAt, costMicros: cost, message })))
      return;
    metrics.offloadSpendMicros.inc({ tenant: row.tenantId ?? 'none' }, Number(cost));
    this.logger.info(
      {
        offloadId: row.id,
        jobId: row.jobId,
        tenantId: row.tenantId,
        state,
        exitCode,
        costMicros: String(cost),
      },
      'offload finished',
    );
    const phase = state === 'succeeded' ? 'Succeeded' : 'Failed';
    const job = await this.kube.get<KubeJob & { apiVersion: string; kind: string }>(
      jobRef(row.kubeNamespace, row.kubeJobName),
    );
    if (!job) return;
    const container = job.spec?.template?.spec?.containers?.[0]?.name ?? 'main';
    await this.patchPodStatus(
      row.kubeNamespace,
      `${row.kubeJobName}-runpod`,
      podStatus(phase, row.startedAt ?? endedAt, exitCode ?? 1, endedAt, container),
    ).catch(() => undefined);
    await this.kube.mergePatch(
      jobRef(row.kubeNamespace, row.kubeJobName),
      jobPatch(row.kubeNamespace, row.kubeJobName, { [ANN.status]: phase }),
    );
  }

  /**
   * A roam job's log, archived like any job's (`…/logs/attempt-<n>.log` and `log_archives`),
   * so roam's log API serves it after the RunPod pod is gone. Best effort: a failure is logged.
   */
  private async archiveLog(row: OffloadRow, text: string): Promise<void> {
    if (!this.store || !row.jobId || !row.tenantId) return;
    try {
      const attempt = await this.repo.attemptOf(row.jobId);
      if (attempt === undefined) return;
      const body = Buffer.from(text, 'utf8');
      const key = logKey(row.tenantId, row.jobId, attempt);
      await this.store.put(key, body, body.length, 'text/plain; charset=utf-8');
      await this.repo.saveLogArchive({
        jobId: row.jobId,
        attempt,
        tenantId: row.tenantId,
        storageKey: key,
        size: body.length,
      });
    } catch (error) {
      this.logger.warn(
        { err: error, jobId: row.jobId },
        'could not archive the log of an offloaded job',
      );
    }
  }

  /** The Job is gone (deleted, cancelled): its RunPod pod must not keep billing. */
  async terminate(row: OffloadRow, why: string): Promise<void> {
    if (row.runpodPodId) await this.runpod.terminatePod(row.runpodPodId);
    const endedAt = new Date();
    const cost = row.startedAt ? costMicros(row.pricePerHourMicros, row.startedAt, endedAt) : 0n;
    await this.repo.finish(row, {
      state: 'terminated',
      exitCode: null,
      endedAt,
      costMicros: cost,
      message: why,
    });
    this.logger.info(
      { offloadId: row.id, podId: row.runpodPodId, jobId: row.jobId, why },
      'RunPod pod terminated',
    );
  }

  /**
   * A `creating` row older than the grace: its worker died between reserving and recording.
   * The pod carrying its tag is adopted when the Job still wants it, terminated otherwise;
   * no pod means RunPod never made one, and the reservation is given back.
   */
  async repair(row: OffloadRow, tagged: RunPodPod[], jobExists: boolean): Promise<void> {
    const [pod, ...extra] = tagged.filter((p) => p.desiredStatus !== 'TERMINATED');
    for (const p of extra) await this.runpod.terminatePod(p.id);
    if (pod && jobExists) {
      this.logger.warn(
        { offloadId: row.id, podId: pod.id },
        'adopting a RunPod pod created before a crash',
      );
      await this.adopt(row, pod);
    } else if (pod) {
      await this.terminate(
        { ...row, runpodPodId: pod.id },
        'the Job went away while its pod was being created',
      );
    } else {
      await this.giveBack(row, 'the RunPod pod was never created', false);
    }
  }

  private async giveBack(row: OffloadRow, why: string, roamCreatedJob: boolean): Promise<void> {
    await this.repo.release(row, why);
    const ref = jobRef(row.kubeNamespace, row.kubeJobName);
    // roam's scheduler creates its own Job when it admits the job; ours would be adopted suspended.
    if (roamCreatedJob || row.jobId) await this.kube.delete(ref);
    else
      await this.kube
        .mergePatch(
          ref,
          jobPatch(
            row.kubeNamespace,
            row.kubeJobName,
            { [ANN.status]: 'Pending', [ANN.reason]: `offload failed: ${why}` },
            { suspend: false },
          ),
        )
        .catch(() => undefined);
  }

  /**
   * With object storage, a roam job's RunPod pod gets presigned URLs for its input archive and
   * its results upload (the same key as on Kubernetes, so the storage worker cannot tell).
   */
  private async filesOf(
    roam: NonNullable<OffloadTarget['roam']>,
    job: KubeJob,
  ): Promise<{ files?: OffloadFiles }> {
    if (this.store?.kind !== 's3') return {};
    const urls = await presignJobFiles(
      this.store,
      {
        id: roam.jobId,
        tenantId: roam.tenantId,
        attempt: roam.attempt,
        deadlineSeconds: job.spec?.activeDeadlineSeconds,
        inputsKey: await this.repo.inputsKeyOf(roam.jobId),
      },
      // RunPod starts a pod within minutes; a day leaves room for a slow image pull.
      24 * 3600,
    );
    if (!urls.resultsUploadUrl) return {};
    return {
      files: {
        resultsUploadUrl: urls.resultsUploadUrl,
        ...(urls.inputs ? { inputs: urls.inputs } : {}),
      },
    };
  }

  private async resolveEnv(
    namespace: string,
    container: ContainerSpec,
  ): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (!ref) continue;
      const kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
      const obj = await this.kube.get<{
        apiVersion: string;
        kind: string;
        data?: Record<string, string>;
      }>({ apiVersion: 'v1', kind, namespace, name: ref.name });
      const raw = obj?.data?.[ref.key];
      if (raw === undefined) {
        if (ref.optional) continue;
        throw new Error(`${kind} ${namespace}/${ref.name} has no key ${ref.key} (env ${e.name})`);
      }
      env[e.name] = kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    }
    return env;
  }

  private patchPodStatus(namespace: string, name: string, status: unknown): Promise<void> {
    return this.kube.patchPodStatus(namespace, name, status);
  }
}

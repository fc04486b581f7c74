import { resultSlotsOf } from '@roam/contracts';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { answerCheck, KUEUE_PRIORITY_CLASSES, workloadPriorityClass } from '@roam/domain';
import { attemptOfObjectName, isConflict, isNotFound, Kube, ROAM_LABELS } from '@roam/kube';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../../scheduler.config.js';
import { JobFilesService } from '../job-files.js';
import { deadlineSeconds } from '../job-manifest.js';
import { KueueAdmissionRepository } from './kueue-admission.repository.js';
import { KueueWorkloads, ownerJob, type WorkloadObject } from './kueue-workloads.js';

/** The controllerName of roam's AdmissionCheck. */
export const INPUTS_CHECK_CONTROLLER = 'roam.dev/inputs';

const KUEUE = '/apis/kueue.x-k8s.io/v1beta1';
const MANAGED = { [ROAM_LABELS.managedBy]: 'roam' };

/**
 * ROAM_ADMISSION=kueue: roam as a Kueue AdmissionCheck (controllerName `roam.dev/inputs`).
 * The tenants' ClusterQueues list the check, so Kueue reserves quota for a job's Workload, puts
 * the check Pending, and admits it only once roam answers. roam answers Ready with the
 * attempt's presigned URLs (inputs, results upload, dependency manifest) as `podSetUpdates`
 * annotations, minted now: Kueue puts them on the pod template as it unsuspends the Job, and
 * the helper containers read them through the downward API (job-files.ts). However long the
 * job waited in Kueue, its URLs are as fresh as in roam mode. A job roam no longer runs (its
 * attempt cancelled or ended) is Rejected; a Workload of someone else's Job passes with nothing
 * added. Also keeps the cluster-scoped objects this mode relies on: the AdmissionCheck (Active)
 * and the WorkloadPriorityClasses roam's priorities map onto.
 */
@Injectable()
export class KueueInputsCheck implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly inFlight = new Set<string>();
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly kube: Kube,
    private readonly workloads: KueueWorkloads,
    private readonly files: JobFilesService,
    private readonly repository: KueueAdmissionRepository,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ROAM_ADMISSION === 'kueue') void this.ensureClusterObjects(1000);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Answers each Workload whose check waits, at most KUBE_CREATE_CONCURRENCY at a time; never
   * waits for them (called by every admission cycle). One left Pending (a dependency's results
   * not stored yet, a conflicting write) is offered again by a later cycle.
   */
  sweep(): void {
    if (this.stopped) return;
    for (const w of this.workloads.awaitingCheck()) {
      if (this.inFlight.size >= this.config.KUBE_CREATE_CONCURRENCY) return;
      const key = `${w.metadata?.namespace}/${w.metadata?.name}`;
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      void this.answer(w)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, workload: key }, 'could not answer the AdmissionCheck'),
        )
        .finally(() => this.inFlight.delete(key));
    }
  }

  private async answer(w: WorkloadObject): Promise<void> {
    const check = this.config.KUEUE_ADMISSION_CHECK;
    const owner = attemptOfObjectName(ownerJob(w) ?? '');
    let answer: { state: 'Ready' | 'Rejected'; message: string };
    let annotations: Record<string, string> = {};
    if (!owner) answer = { state: 'Ready', message: 'not a roam job: nothing to mint' };
    else {
      const { jobId: id, attempt } = owner;
      const job = await this.repository.forCheck(id);
      if (!job || job.attempt !== attempt || !['pending', 'running'].includes(job.status))
        answer = {
          state: 'Rejected',
          message: `roam runs no attempt ${attempt} of job ${id} any more`,
        };
      else {
        const minted = await this.files.urlAnnotations({
          id,
          tenantId: job.tenantId,
          attempt,
          deadlineSeconds: deadlineSeconds(job.spec, this.config.DEFAULT_MAX_DURATION_SECONDS),
          inputsKey: job.inputsKey,
          inputsFromDependencies: job.spec.inputs_from_dependencies === true,
          resultSlots: resultSlotsOf(job.spec),
        });
        // A dependency's results are not stored yet: the check stays Pending meanwhile.
        if (!minted) return;
        annotations = minted;
        answer = {
          state: 'Ready',
          message: `roam minted the job's URLs (inputs valid ${this.config.INPUTS_URL_TTL_SECONDS} s)`,
        };
      }
    }
    const namespace = w.metadata?.namespace ?? '';
    const name = w.metadata?.name ?? '';
    try {
      await this.kube.patchObjectStatus(
        `${KUEUE}/namespaces/${namespace}/workloads/${name}`,
        { kind: 'Workload', namespace, name },
        { admissionChecks: answerCheck(w, check, answer, annotations) },
        w.metadata?.resourceVersion,
      );
    } catch (error) {
      // Changed since it was read (Kueue evicted it, say) or gone: the next sweep reads again.
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    this.logger.info(
      { workload: `${namespace}/${name}`, state: answer.state },
      'answered the AdmissionCheck',
    );
  }

  /** The AdmissionCheck (marked Active) and the priority classes; retried until Kueue is there. */
  private async ensureClusterObjects(delayMs: number): Promise<void> {
    if (this.stopped) return;
    try {
      for (const c of KUEUE_PRIORITY_CLASSES)
        await this.kube.upsert(workloadPriorityClass(c, MANAGED));
      const name = this.config.KUEUE_ADMISSION_CHECK;
      await this.kube.upsert({
        apiVersion: 'kueue.x-k8s.io/v1beta1',
        kind: 'AdmissionCheck',
        metadata: { name, labels: MANAGED },
        spec: { controllerName: INPUTS_CHECK_CONTROLLER },
      });
      await this.kube.patchObjectStatus(
        `${KUEUE}/admissionchecks/${name}`,
        { kind: 'AdmissionCheck', name },
        {
          conditions: [
            {
              type: 'Active',
              status: 'True',
              reason: 'Active',
              message: 'roam mints the URLs of each admitted job',
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      );
    } catch (error) {
      this.logger.warn({ err: error, retryInMs: delayMs }, 'cannot write Kueue objects yet');
      this.timer = setTimeout(
        () => void this.ensureClusterObjects(Math.min(delayMs * 2, 30_000)),
        delayMs,
      );
      this.timer.unref();
    }
  }
}

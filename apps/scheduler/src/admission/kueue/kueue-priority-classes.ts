import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import {
  KUEUE_ADMIN_CLASS_PREFIX,
  type KueuePriorityClass,
  kueuePriorityClasses,
  MAX_PRIORITY_CLASSES,
  workloadPriorityClass,
} from '@roam/domain';
import { Kube, type KubernetesObject, ROAM_LABELS } from '@roam/kube';
import { LOGGER, PRISMA } from '@roam/runtime';
import type { Logger } from 'pino';

const MANAGED = { [ROAM_LABELS.managedBy]: 'roam' };
/** How long the admin classes read from the database are reused. */
const REFRESH_MS = 2_000;

/**
 * ROAM_ADMISSION=kueue: the WorkloadPriorityClasses of roam's bands and of its admin-defined
 * priority classes (at most MAX_PRIORITY_CLASSES), kept as the database says: written when the
 * set changes, and a `roam-pc-*` class of roam's whose priority class was deleted is removed.
 * A Workload keeps the priority it was created with, so removing a class changes no waiting job.
 */
@Injectable()
export class KueuePriorityClasses {
  private applied: string | undefined;
  private classes: KueuePriorityClass[] = kueuePriorityClasses({});
  private readAt = 0;
  /** Names jobs asked for that the last read did not find (deleted since): not re-read early. */
  private absent: ReadonlySet<string> = new Set();

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly kube: Kube,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The classes now provisioned, brought up to date first: every REFRESH_MS at most, or at once
   * when a job about to be created names an admin class (`named`) not written yet (once: a
   * class the last read did not find either waits for the next refresh).
   */
  async current(
    now = Date.now(),
    named: readonly string[] = [],
  ): Promise<readonly KueuePriorityClass[]> {
    const known = new Set(this.classes.map((c) => c.name));
    const unknown = (names: ReadonlySet<string>, name: string) =>
      !names.has(`${KUEUE_ADMIN_CLASS_PREFIX}${name}`);
    const missing = named.some((name) => unknown(known, name) && !this.absent.has(name));
    if (!missing && now - this.readAt < REFRESH_MS && this.applied !== undefined)
      return this.classes;
    const rows = await this.prisma.priorityClass.findMany({
      orderBy: { name: 'asc' },
      take: MAX_PRIORITY_CLASSES,
    });
    const classes = kueuePriorityClasses(Object.fromEntries(rows.map((r) => [r.name, r.value])));
    const key = JSON.stringify(classes.map((c) => [c.name, c.value]));
    if (key !== this.applied) {
      for (const c of classes) await this.kube.upsert(workloadPriorityClass(c, MANAGED));
      await this.removeStale(new Set(classes.map((c) => c.name)));
      this.applied = key;
      this.logger.info({ classes: classes.length }, 'Kueue WorkloadPriorityClasses written');
    }
    this.classes = classes;
    this.readAt = now;
    const written = new Set(classes.map((c) => c.name));
    this.absent = new Set(named.filter((name) => unknown(written, name)));
    return classes;
  }

  private async removeStale(keep: ReadonlySet<string>): Promise<void> {
    const { items } = await this.kube.list<KubernetesObject>(
      'kueue.x-k8s.io/v1beta1',
      'WorkloadPriorityClass',
      { labelSelector: `${ROAM_LABELS.managedBy}=roam` },
    );
    for (const item of items) {
      const name = item.metadata?.name ?? '';
      if (name.startsWith(KUEUE_ADMIN_CLASS_PREFIX) && !keep.has(name))
        await this.kube.delete({
          apiVersion: 'kueue.x-k8s.io/v1beta1',
          kind: 'WorkloadPriorityClass',
          name,
        });
    }
  }
}

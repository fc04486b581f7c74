// Fixtures shared by the gateway suites that need jobs with real Kubernetes pods behind them.
import type { JobStatus } from '@roam/contracts';
import { uuidv7 } from '@roam/domain';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import { type Harness, register } from './harness.js';

export type Pod = KubernetesObject & { status?: { phase?: string } };

/**
 * Plays the scheduler (until it creates Kubernetes Jobs itself): inserts the job row, creates
 * the Kubernetes Job `roam-<id>-<attempt>` with roam's labels, and records the pod in
 * `placement` once the job controller has made it.
 */
export async function placeJob(
  h: Harness,
  tenant: string,
  script: string,
  options: {
    attempt?: number;
    id?: string;
    status?: JobStatus;
    annotations?: Record<string, string>;
  } = {},
): Promise<{ id: string; pod: Pod }> {
  const id = options.id ?? uuidv7();
  const attempt = options.attempt ?? 1;
  const namespace = `roam-${tenant}`;
  await h.prisma.job.upsert({
    where: { id },
    create: {
      id,
      tenantId: tenant,
      name: `logs-${id.slice(-6)}`,
      spec: { image: 'busybox', command: ['sh', '-c', script], ttl_seconds_after_finished: 120 },
      cpuMillis: 100,
      memoryBytes: BigInt(128 * 2 ** 20),
      status: options.status ?? 'running',
      phase: 'Running',
      attempt,
      startedAt: new Date(),
    },
    update: { attempt, status: options.status ?? 'running' },
  });
  const labels = {
    'roam.dev/job-id': id,
    'roam.dev/tenant': tenant,
    'roam.dev/attempt': String(attempt),
    'app.kubernetes.io/managed-by': 'roam',
  };
  const name = `roam-${id}-${attempt}`;
  await h.kube.create({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels, annotations: options.annotations ?? {} },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }],
        },
      },
    },
  });
  const pod = await eventually(`the pod of ${name}`, async () => {
    const { items } = await h.kube.list<Pod>('v1', 'Pod', {
      namespace,
      labelSelector: `roam.dev/job-id=${id},roam.dev/attempt=${attempt}`,
    });
    return items[0];
  });
  await h.prisma.job.update({
    where: { id },
    data: { placement: { namespace, job: name, pod: pod.metadata!.name!, node: null } },
  });
  return { id, pod };
}

export const podPhase = async (h: Harness, pod: Pod) =>
  (
    await h.kube.get<Pod>({
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace,
    })
  )?.status?.phase;

export async function readyTenant(h: Harness, tenant: string): Promise<string> {
  const key = await register(h.url, tenant);
  await eventually(`tenant ${tenant} ready`, async () => {
    const row = await h.prisma.tenant.findUnique({ where: { id: tenant } });
    return row?.status === 'ready';
  });
  return key;
}

/** Reads a response body chunk by chunk, so tests can act while a stream is still open. */
export function reader(response: Response) {
  const decoder = new TextDecoder();
  const stream = response.body!.getReader();
  let text = '';
  let done = false;
  return {
    get text() {
      return text;
    },
    get done() {
      return done;
    },
    /** Reads until `until(text)` holds or the stream ends. */
    async readUntil(until: (text: string) => boolean): Promise<string> {
      while (!done && !until(text)) {
        const chunk = await stream.read();
        if (chunk.done) done = true;
        else text += decoder.decode(chunk.value, { stream: true });
      }
      return text;
    },
    readToEnd() {
      return this.readUntil(() => false);
    },
  };
}

export function sseMessages(text: string): { event: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data };
    });
}

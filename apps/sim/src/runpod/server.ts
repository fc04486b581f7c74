// A simulated RunPod over real HTTP: the REST v1 pod routes (`/v1/pods…`) and the GraphQL
// catalogue query (`/graphql`) the roam client uses, plus `/admin/*` to break it on demand.
// Pods "run" the container's command as the Kubernetes simulator's kubelet reads it (sleep,
// echo, exit…), scaled by the simulator's speed; env ROAM_SIM_DURATION / ROAM_SIM_EXIT_CODE /
// ROAM_SIM_LOGS (the offload worker copies a Job's `sim.roam.dev/*` annotations into them)
// override the command's duration, exit code and log lines. A command wrapped by roam's
// results wrapper (`sh -c <wrapper> roam-job …`, @roam/object-store) fetches its inputs from
// ROAM_INPUTS_URL first and PUTs its results directory (files its script wrote, and
// ROAM_SIM_FILES) to ROAM_RESULTS_UPLOAD_URL before it is reported exited, as the wrapper does.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { z } from 'zod';

import { unwrapResults } from '@roam/object-store';

import type { Container } from '../api/models.js';
import { parseFilesAnnotation, putFile } from '../kubelet/files.js';
import { fetchInputs } from '../kubelet/inputs.js';
import { uploadResults } from '../kubelet/results.js';
import { type Plan, planContainer, planDuration } from '../kubelet/script.js';
import { cloneJson } from '../store/json-equal.js';
import { CatalogSchema, DEFAULT_CATALOG, type GpuOffer } from './catalog.js';

const CreateSchema = z.object({
  name: z.string().min(1).max(191),
  imageName: z.string().min(1),
  dockerEntrypoint: z.array(z.string()).optional(),
  dockerStartCmd: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  ports: z.array(z.string()).optional(),
  containerDiskInGb: z.number().int().min(1).optional(),
  gpuTypeIds: z.array(z.string()).min(1),
  gpuCount: z.number().int().min(1).max(8).default(1),
  dataCenterIds: z.array(z.string()).optional(),
  cloudType: z.enum(['SECURE', 'COMMUNITY']).default('SECURE'),
  restartPolicy: z.string().optional(),
});

export interface SimRunPodPod {
  id: string;
  name: string;
  desiredStatus: 'RUNNING' | 'EXITED' | 'TERMINATED';
  imageName: string;
  dockerEntrypoint: string[];
  dockerStartCmd: string[];
  env: Record<string, string>;
  ports: string[];
  containerDiskInGb: number;
  gpuTypeId: string;
  gpuCount: number;
  dataCenterId: string;
  cloudType: 'SECURE' | 'COMMUNITY';
  costPerHr: number;
  createdAt: string;
  lastStartedAt: string;
  lastStatusChange: string;
  exitCode?: number;
  logs: string[];
}

export interface RunPodSimOptions {
  host: string;
  port: number;
  /** Simulated seconds per real second, as the Kubernetes simulator's. */
  speed: number;
  catalog?: unknown;
  log: (line: string) => void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

/** The simulated RunPod account: catalogue, stock, pods and the failures tests ask for. */
export class RunPodSimulator {
  readonly http: Server;
  private readonly catalog: GpuOffer[];
  private readonly pods = new Map<string, SimRunPodPod>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private failCreates: Array<{ status: number; message: string }> = [];
  url = '';

  constructor(private readonly options: RunPodSimOptions) {
    this.catalog = cloneJson(CatalogSchema.parse(options.catalog ?? DEFAULT_CATALOG));
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) =>
        send(res, error instanceof SyntaxError || error instanceof z.ZodError ? 400 : 500, {
          error: String(error instanceof z.ZodError ? z.prettifyError(error) : error),
        }),
      );
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => resolve());
    });
    this.url = `http://${this.options.host}:${(this.http.address() as AddressInfo).port}`;
    this.options.log(
      `[sim] SIMULATED RunPod API (not the real RunPod) on ${this.url}/v1 and ${this.url}/graphql`,
    );
    return this.url;
  }

  /** Every pod ever created, terminated ones included (assertions). */
  allPods(): SimRunPodPod[] {
    return [...this.pods.values()].map((p) => cloneJson(p));
  }

  /** Pods that still exist on RunPod (would bill): not terminated. */
  livePods(): SimRunPodPod[] {
    return this.allPods().filter((p) => p.desiredStatus !== 'TERMINATED');
  }

  /** The next `count` creates fail with `status` (e.g. 500 for an outage, 409 for no stock). */
  failNextCreates(count: number, status = 500, message = 'simulated failure'): void {
    for (let i = 0; i < count; i += 1) this.failCreates.push({ status, message });
  }

  /** Sets the free GPUs of a type (in one data centre, or all): 0 = out of stock. */
  setStock(gpuTypeId: string, available: number, dataCenterId?: string): void {
    const offer = this.catalog.find((g) => g.id === gpuTypeId);
    if (!offer) throw new Error(`unknown GPU type ${gpuTypeId}`);
    for (const dc of Object.keys(offer.stock))
      if (!dataCenterId || dc === dataCenterId) offer.stock[dc] = available;
  }

  close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/health') return send(res, 200, 'ok\nsimulated: true (roam RunPod simulator)\n');
    if (path.startsWith('/admin/')) return this.admin(req, res, path);
    if (!/^Bearer \S+/.test(req.headers.authorization ?? ''))
      return send(res, 401, { error: 'missing API key (Authorization: Bearer …)' });
    if (path === '/graphql' && req.method === 'POST') return send(res, 200, this.graphql());
    if (path === '/v1/pods' && req.method === 'GET')
      return send(
        res,
        200,
        this.livePods().map((p) => this.view(p)),
      );
    if (path === '/v1/pods' && req.method === 'POST') return this.create(await readJson(req), res);
    const match = /^\/v1\/pods\/([^/]+)(\/logs)?$/.exec(path);
    const pod = match ? this.pods.get(decodeURIComponent(match[1]!)) : undefined;
    if (match && (!pod || pod.desiredStatus === 'TERMINATED'))
      return send(res, 404, { error: `pod ${match[1]} not found` });
    if (pod && match?.[2] && req.method === 'GET')
      return send(res, 200, { logs: pod.logs.join('\n') });
    if (pod && req.method === 'GET') return send(res, 200, this.view(pod));
    if (pod && req.method === 'DELETE') {
      this.end(pod, 'TERMINATED', 'Terminated by user');
      return send(res, 204, '');
    }
    return send(res, 404, { error: `no route ${req.method} ${path}` });
  }

  private async admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/admin/pods') return send(res, 200, this.allPods());
    const body = req.method === 'GET' ? {} : await readJson(req);
    if (path === '/admin/fail-next-create') {
      const input = z
        .object({
          count: z.number().int().min(1).default(1),
          status: z.number().int().default(500),
          message: z.string().optional(),
        })
        .parse(body);
      this.failNextCreates(input.count, input.status, input.message);
      return send(res, 200, { queued: this.failCreates.length });
    }
    if (path === '/admin/stock') {
      const input = z
        .object({
          gpuTypeId: z.string(),
          available: z.number().int().min(0),
          dataCenterId: z.string().optional(),
        })
        .parse(body);
      this.setStock(input.gpuTypeId, input.available, input.dataCenterId);
      return send(res, 200, { ok: true });
    }
    return send(res, 404, { error: `no admin route ${path}` });
  }

  private graphql() {
    const dcs = [...new Set(this.catalog.flatMap((g) => Object.keys(g.stock)))];
    const stockStatus = (n: number) =>
      n >= 8 ? 'High' : n >= 3 ? 'Medium' : n > 0 ? 'Low' : 'None';
    return {
      data: {
        gpuTypes: this.catalog.map(({ stock: _stock, ...g }) => g),
        dataCenters: dcs.map((id) => ({
          id,
          gpuAvailability: this.catalog
            .filter((g) => g.stock[id] !== undefined)
            .map((g) => ({
              gpuTypeId: g.id,
              stockStatus: stockStatus(g.stock[id]!),
              available: g.stock[id]!,
            })),
        })),
      },
    };
  }

  private create(raw: unknown, res: ServerResponse): void {
    const input = CreateSchema.parse(raw);
    const failure = this.failCreates.shift();
    if (failure) return send(res, failure.status, { error: failure.message });
    // First GPU type in the caller's order with a data centre that has the GPUs free.
    for (const typeId of input.gpuTypeIds) {
      const offer = this.catalog.find((g) => g.id === typeId);
      const price = input.cloudType === 'COMMUNITY' ? offer?.communityPrice : offer?.securePrice;
      if (!offer || !price) continue;
      const dc = Object.keys(offer.stock).find(
        (d) =>
          (!input.dataCenterIds?.length || input.dataCenterIds.includes(d)) &&
          offer.stock[d]! >= input.gpuCount,
      );
      if (!dc) continue;
      offer.stock[dc]! -= input.gpuCount;
      const now = new Date().toISOString();
      const pod: SimRunPodPod = {
        id: randomBytes(7).toString('hex'),
        name: input.name,
        desiredStatus: 'RUNNING',
        imageName: input.imageName,
        dockerEntrypoint: input.dockerEntrypoint ?? [],
        dockerStartCmd: input.dockerStartCmd ?? [],
        env: input.env ?? {},
        ports: input.ports ?? [],
        containerDiskInGb: input.containerDiskInGb ?? 20,
        gpuTypeId: offer.id,
        gpuCount: input.gpuCount,
        dataCenterId: dc,
        cloudType: input.cloudType,
        costPerHr: Math.round(price * input.gpuCount * 1000) / 1000,
        createdAt: now,
        lastStartedAt: now,
        lastStatusChange: `Rented by User: ${now}`,
        logs: [],
      };
      this.pods.set(pod.id, pod);
      this.run(pod);
      this.options.log(
        `[sim] runpod: pod ${pod.id} (${pod.name}) on ${offer.id} x${pod.gpuCount} in ${dc}`,
      );
      return send(res, 201, this.view(pod));
    }
    send(res, 409, {
      error: `There are no longer any instances available with the requested specifications (${input.gpuTypeIds.join(', ')} x${input.gpuCount}).`,
    });
  }

  private run(pod: SimRunPodPod): void {
    const inner = unwrapResults(pod.dockerEntrypoint);
    if (inner) {
      void this.runWrapped(pod, inner);
      return;
    }
    this.runPlan(pod, planContainer(pod.dockerEntrypoint, pod.dockerStartCmd, pod.imageName));
  }

  /** roam's wrapper: inputs in, the job's own command, results out (see the header). */
  private async runWrapped(pod: SimRunPodPod, command: string[]): Promise<void> {
    const container: Container = {
      name: 'main',
      env: Object.entries(pod.env).map(([name, value]) => ({ name, value })),
    };
    const files = new Map<string, Buffer>();
    if (pod.env.ROAM_INPUTS_URL) {
      const fetched = await fetchInputs(
        container,
        () => undefined,
        (path, content) => files.set(path, content),
      );
      pod.logs.push(...fetched.lines);
      if (fetched.exitCode !== 0) {
        pod.logs.push('roam: could not fetch the inputs');
        this.end(pod, 'EXITED', 'Exited with code 1', 1);
        return;
      }
    }
    const plan = planContainer(command, undefined, pod.imageName, pod.env);
    this.runPlan(pod, plan, async (exitCode) => {
      if (!pod.env.ROAM_RESULTS_UPLOAD_URL) return;
      for (const step of plan.steps)
        if (step.kind === 'file') putFile(files, step.path, step.content, step.append);
      if (exitCode === 0 && pod.env.ROAM_SIM_FILES) {
        const extra = parseFilesAnnotation(pod.env.ROAM_SIM_FILES);
        if (!extra) pod.logs.push('[sim] ROAM_SIM_FILES is not a JSON object of path → content');
        for (const [path, content] of Object.entries(extra ?? {}))
          putFile(files, path, content, false);
      }
      const uploaded = await uploadResults(container, files);
      if (!uploaded.empty) pod.logs.push(...uploaded.lines);
      if (uploaded.exitCode !== 0) pod.logs.push('roam: the results upload failed');
    });
  }

  private runPlan(
    pod: SimRunPodPod,
    plan: Plan,
    beforeExit?: (exitCode: number) => Promise<void>,
  ): void {
    if (pod.desiredStatus !== 'RUNNING') return;
    const env = pod.env;
    const duration =
      env.ROAM_SIM_DURATION !== undefined
        ? Number.parseFloat(env.ROAM_SIM_DURATION)
        : planDuration(plan);
    const exit =
      env.ROAM_SIM_EXIT_CODE !== undefined ? Number(env.ROAM_SIM_EXIT_CODE) : plan.exitCode;
    pod.logs.push(...(env.ROAM_SIM_LOGS ? env.ROAM_SIM_LOGS.split('\n') : []));
    pod.logs.push(...plan.steps.flatMap((s) => (s.kind === 'log' ? [s.text] : [])));
    const ms = (Number.isFinite(duration) ? duration : 0) * (1000 / this.options.speed);
    const exited = () => this.end(pod, 'EXITED', `Exited with code ${exit}`, exit);
    const timer = setTimeout(() => {
      if (!beforeExit) return exited();
      // Reported exited only once the wrapper is done, as the real container's exit would be.
      void beforeExit(exit).then(() => {
        if (pod.desiredStatus === 'RUNNING') exited();
      });
    }, ms);
    timer.unref();
    this.timers.set(pod.id, timer);
  }

  private end(
    pod: SimRunPodPod,
    status: 'EXITED' | 'TERMINATED',
    change: string,
    exitCode?: number,
  ): void {
    clearTimeout(this.timers.get(pod.id));
    this.timers.delete(pod.id);
    if (pod.desiredStatus === 'RUNNING') {
      const offer = this.catalog.find((g) => g.id === pod.gpuTypeId);
      if (offer)
        offer.stock[pod.dataCenterId] = (offer.stock[pod.dataCenterId] ?? 0) + pod.gpuCount;
    }
    if (pod.desiredStatus === 'TERMINATED') return;
    if (exitCode !== undefined) pod.exitCode = exitCode;
    pod.desiredStatus = status;
    pod.lastStatusChange = `${change}: ${new Date().toISOString()}`;
  }

  private view(pod: SimRunPodPod) {
    const { logs: _logs, createdAt: _created, ...rest } = pod;
    return rest;
  }
}

// A simulated Compute Engine API for the parts roam's GCE adapter uses: the managed instance
// group (MIG) of each GKE node pool, its managed instances (one per simulated node, same name),
// and `deleteInstances`, which deletes the node; the pool recreates it after its delay, as a
// MIG would. Same paths and JSON shapes as compute.googleapis.com; it says it is simulated in
// its logs and on `/health`.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Node } from '../api/models.js';
import type { Store } from '../store/store.js';
import type { Cluster, PoolInfo } from '../world/world.js';

/** The GKE cluster name the simulated groups are named after: `gke-sim-<pool>-<hash>-grp`. */
export const SIM_GKE_CLUSTER = 'sim';

export interface ComputeDeletion {
  project: string;
  zone: string;
  group: string;
  instance: string;
  /** The deleted incarnation (the node's uid). */
  id: string;
  operation: string;
}

export interface ComputeSimulatorOptions {
  host: string;
  port: number;
  log: (line: string) => void;
}

const groupName = (pool: string) =>
  `gke-${SIM_GKE_CLUSTER}-${pool}-${createHash('sha1').update(pool).digest('hex').slice(0, 8)}-grp`;

function gceError(res: ServerResponse, code: number, message: string, reason: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } }),
  );
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : {};
}

export class ComputeSimulator {
  /** Every instance deleted through the API, in order: what tests assert on. */
  readonly deletions: ComputeDeletion[] = [];
  /** When true every request answers 503, like an API outage (tests use it to hold a step). */
  unavailable = false;
  /** When true only `deleteInstances` answers 503: reads work, deletions wait (tests hold a step with it). */
  refuseDeletes = false;
  private readonly http: Server;
  private operations = 0;
  url = '';

  constructor(
    private readonly cluster: Cluster,
    private readonly store: Store,
    private readonly options: ComputeSimulatorOptions,
  ) {
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) =>
        gceError(res, 500, `simulated compute API failed: ${String(error)}`, 'backendError'),
      );
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    this.url = `http://${this.options.host}:${port}`;
    this.options.log(
      `[sim] SIMULATED Compute Engine API (roam sim, not GCE) listening on ${this.url}`,
    );
    return this.url;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private base(project: string) {
    return `${this.url}/compute/v1/projects/${project}`;
  }

  private groupOf(zone: string, name: string): PoolInfo | undefined {
    return this.cluster
      .listPools()
      .find((p) => p.spec.zone === zone && groupName(p.spec.name) === name);
  }

  private igm(project: string, pool: PoolInfo) {
    const zone = `${this.base(project)}/zones/${pool.spec.zone}`;
    const name = groupName(pool.spec.name);
    return {
      kind: 'compute#instanceGroupManager',
      name,
      zone,
      baseInstanceName: pool.spec.name,
      targetSize: pool.spec.nodes,
      instanceGroup: `${zone}/instanceGroups/${name}`,
      selfLink: `${zone}/instanceGroupManagers/${name}`,
      description: `simulated MIG of node pool ${pool.spec.name}`,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\nsimulated: true (roam Compute Engine API simulator)\n');
      return;
    }
    if (this.unavailable)
      return gceError(
        res,
        503,
        'The service is currently unavailable (simulated outage).',
        'backendError',
      );
    let m = /^\/compute\/v1\/projects\/([^/]+)\/aggregated\/instanceGroupManagers$/.exec(path);
    if (m && req.method === 'GET') {
      const project = m[1] ?? '';
      const items: Record<string, { instanceGroupManagers: unknown[] }> = {};
      for (const pool of this.cluster.listPools()) {
        (items[`zones/${pool.spec.zone}`] ??= {
          instanceGroupManagers: [],
        }).instanceGroupManagers.push(this.igm(project, pool));
      }
      return json(res, {
        kind: 'compute#instanceGroupManagerAggregatedList',
        id: `projects/${project}/aggregated/instanceGroupManagers`,
        items,
      });
    }
    m =
      /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instanceGroupManagers\/([^/]+)\/(listManagedInstances|deleteInstances)$/.exec(
        path,
      );
    if (m && req.method === 'POST') {
      if (this.refuseDeletes && m[4] === 'deleteInstances')
        return gceError(
          res,
          503,
          'deleteInstances is unavailable (simulated outage).',
          'backendError',
        );
      const [, project = '', zone = '', name = '', verb] = m;
      const pool = this.groupOf(zone, name);
      if (!pool)
        return gceError(
          res,
          404,
          `The resource 'projects/${project}/zones/${zone}/instanceGroupManagers/${name}' was not found`,
          'notFound',
        );
      const body = (await readBody(req)) as {
        instances?: unknown;
        skipInstancesOnValidationError?: boolean;
      };
      return verb === 'listManagedInstances'
        ? json(res, { managedInstances: this.instancesOf(project, pool) })
        : this.deleteInstances(res, project, zone, name, pool, body);
    }
    gceError(res, 404, `simulated compute API does not serve ${req.method} ${path}`, 'notFound');
  }

  private instancesOf(project: string, pool: PoolInfo) {
    return pool.nodes.map((nodeName) => {
      const node = this.store.get<Node>('nodes', undefined, nodeName);
      return {
        instance: `${this.base(project)}/zones/${pool.spec.zone}/instances/${nodeName}`,
        id: node?.metadata.uid ?? '',
        instanceStatus: 'RUNNING',
        currentAction: node?.metadata.deletionTimestamp ? 'DELETING' : 'NONE',
      };
    });
  }

  private deleteInstances(
    res: ServerResponse,
    project: string,
    zone: string,
    group: string,
    pool: PoolInfo,
    body: { instances?: unknown; skipInstancesOnValidationError?: boolean },
  ): void {
    const requested = Array.isArray(body.instances) ? body.instances.map(String) : [];
    if (requested.length === 0)
      return gceError(res, 400, 'Invalid value for field instances: empty', 'invalid');
    const names = requested.map((ref) => ref.slice(ref.lastIndexOf('/') + 1));
    const missing = names.filter((n) => !pool.nodes.includes(n));
    if (missing.length > 0 && !body.skipInstancesOnValidationError)
      return gceError(
        res,
        400,
        `Instances ${missing.join(', ')} are not members of ${group}`,
        'invalid',
      );
    this.operations += 1;
    const operation = `operation-sim-${Date.now()}-${this.operations}`;
    for (const name of names.filter((n) => pool.nodes.includes(n))) {
      const node = this.store.get<Node>('nodes', undefined, name);
      this.deletions.push({
        project,
        zone,
        group,
        instance: name,
        id: node?.metadata.uid ?? '',
        operation,
      });
      this.cluster.deleteNode(name);
      this.options.log(`[sim] compute: deleted instance ${name} of ${group} (simulated)`);
    }
    const zoneUrl = `${this.base(project)}/zones/${zone}`;
    json(res, {
      kind: 'compute#operation',
      name: operation,
      zone: zoneUrl,
      operationType: 'compute.instanceGroupManagers.deleteInstances',
      targetLink: `${zoneUrl}/instanceGroupManagers/${group}`,
      status: 'DONE',
      progress: 100,
      selfLink: `${zoneUrl}/operations/${operation}`,
    });
  }
}

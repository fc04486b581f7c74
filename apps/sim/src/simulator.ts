// Wires registry, store, API server, admission, controllers, kubelet and world together.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { ExtendedResourceTolerationAdmission } from './admission/extended-resources.js';
import { LimitRangeAdmission } from './admission/limitrange.js';
import { QuotaAdmission } from './admission/quota.js';
import { registerBuiltins } from './api/builtin-types.js';
import { CallLog } from './api/calls.js';
import { serveFaults } from './api/faults.js';
import { registerPlatformTypes } from './api/platform-types.js';
import type { Pod } from './api/models.js';
import { Registry } from './api/registry.js';
import { ResourceService } from './api/resources.js';
import { ApiServer } from './api/server.js';
import { errors } from './api/status.js';
import { ComputeSimulator } from './compute/compute-server.js';
import { DEFAULT_OPTIONS, type SimOptions } from './config.js';
import {
  GarbageCollector,
  NamespaceController,
  QuotaStatusController,
  VolumeBinder,
} from './controllers/housekeeping.js';
import { JobController } from './controllers/job.js';
import { JobSetController, registerJobSet } from './controllers/jobset.js';
import { Clock } from './controllers/runtime.js';
import { Scheduler } from './controllers/scheduler.js';
import { FileStore } from './kubelet/files.js';
import { serveFiles } from './kubelet/inputs.js';
import { Kubelet } from './kubelet/kubelet.js';
import { LogStore } from './kubelet/logs.js';
import { renderKubeconfig } from './kubeconfig.js';
import { Store, type StoreSnapshot } from './store/store.js';
import { Cluster, DEFAULT_WORLD, WorldSchema } from './world/world.js';
import { RunPodSimulator } from './runpod/server.js';
import { KueueController, KueueJobWebhook } from './kueue/controller.js';
import { KUEUE_KEYS, registerKueue } from './kueue/types.js';
import { visibilityRoute } from './kueue/visibility.js';

export interface RunningSimulator {
  url: string;
  port: number;
  kubeconfigPath: string;
  /** Kubeconfig YAML text pointing at this simulator. */
  kubeconfig: string;
  speed: number;
  /** Nodes and pools: add, delete, cordon, break nodes from code. */
  cluster: Cluster;
  store: Store;
  registry: Registry;
  /** Files simulated containers wrote (per pod and per PVC). */
  files: FileStore;
  /** Container log text, for assertions without HTTP. */
  logs: LogStore;
  /** Simulated Compute Engine API (node pools as managed instance groups): COMPUTE_API_URL. */
  computeUrl: string;
  compute: ComputeSimulator;
  /** Writes the snapshot file now (no-op without one). */
  saveSnapshot(): Promise<void>;
  /** The simulated RunPod (REST v1 at `${runpodUrl}/v1`, GraphQL at `${runpodUrl}/graphql`). */
  runpod: RunPodSimulator;
  runpodUrl: string;
  /** Who made which Kubernetes call (User-Agent, verb, resource), for RBAC checks. */
  calls: CallLog;
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function loadWorld(options: SimOptions) {
  if (options.world !== undefined) return WorldSchema.parse(options.world);
  if (options.worldFile) {
    // SIM_WORLD may hold the JSON itself (handy in CI env blocks) or a path to it.
    const inline = options.worldFile.trim().startsWith('{');
    const raw = JSON.parse(
      inline ? options.worldFile : await readFile(options.worldFile, 'utf8'),
    ) as unknown;
    const parsed = WorldSchema.safeParse(raw);
    if (!parsed.success)
      throw new Error(`invalid world file ${options.worldFile}: ${parsed.error.message}`);
    return parsed.data;
  }
  return WorldSchema.parse(DEFAULT_WORLD);
}

export async function startSimulator(partial: Partial<SimOptions> = {}): Promise<RunningSimulator> {
  const options: SimOptions = { ...DEFAULT_OPTIONS, ...partial };
  const world = await loadWorld(options);
  const registry = new Registry();
  registerBuiltins(registry);
  registerPlatformTypes(registry);
  registerJobSet(registry);
  registerKueue(registry);
  const store = new Store(registry);
  if (options.snapshotFile && existsSync(options.snapshotFile)) {
    const snap = JSON.parse(await readFile(options.snapshotFile, 'utf8')) as StoreSnapshot;
    store.restore(snap);
    options.log(
      `[sim] restored ${Object.values(snap.objects).reduce((n, l) => n + l.length, 0)} objects from ${options.snapshotFile}`,
    );
  }
  const clock = new Clock(options.speed);
  const resources = new ResourceService(store, [
    new LimitRangeAdmission(store),
    new ExtendedResourceTolerationAdmission(),
    new QuotaAdmission(store),
    new KueueJobWebhook(),
  ]);
  const logs = new LogStore();
  const files = new FileStore(options.volumesDir);
  const scheduler = new Scheduler(store);
  const kueue = new KueueController(store, resources);
  const controllers = [
    kueue,
    scheduler,
    new JobController(store, registry, resources, clock),
    new JobSetController(store, registry, resources),
    new GarbageCollector(store),
    new NamespaceController(store, registry),
    new QuotaStatusController(store),
  ];
  for (const c of controllers) c.start();
  new VolumeBinder(store).start();
  for (const ns of SYSTEM_NAMESPACES) {
    if (!store.get('namespaces', undefined, ns))
      resources.create(registry.get('namespaces'), undefined, { metadata: { name: ns } });
  }
  // As on a cluster where Kueue is installed: the flavor its ClusterQueues quote.
  if (!store.get(KUEUE_KEYS.flavors, undefined, 'default-flavor'))
    resources.create(registry.get(KUEUE_KEYS.flavors), undefined, {
      metadata: { name: 'default-flavor' },
      spec: {},
    });
  const cluster = new Cluster(store, clock);
  cluster.start(world);
  const kubelet = new Kubelet(store, clock, logs, files);
  kubelet.start();

  const calls = new CallLog();
  const api = new ApiServer({
    calls,
    registry,
    store,
    resources,
    logs,
    evict: (pod) =>
      void resources.delete(
        registry.get('pods'),
        pod.metadata.namespace,
        pod.metadata.name ?? '',
        {},
      ),
    bind: (obj, node) => {
      const pod = obj as Pod;
      if (!store.get('nodes', undefined, node))
        throw errors.notFound({ group: '', plural: 'nodes', kind: 'Node' }, node);
      if (pod.spec?.nodeName)
        throw errors.conflict(
          { group: '', plural: 'pods', kind: 'Pod' },
          pod.metadata.name ?? '',
          `pod ${pod.metadata.name} is already assigned to node "${pod.spec.nodeName}"`,
        );
      scheduler.bind(pod, node);
    },
    simRoutes: (req, res, path): boolean =>
      serveFiles(files, req, res, path) || serveFaults(api, req, res, path),
    aggregated: (path) => visibilityRoute(kueue, path),
    health: () =>
      `ok\nsimulated: true (roam Kubernetes simulator, speed x${options.speed}, ${store.count('nodes')} nodes)\n`,
  });
  await new Promise<void>((resolve, reject) => {
    api.http.once('error', reject);
    api.http.listen(options.port, options.host, () => resolve());
  });
  const port = (api.http.address() as AddressInfo).port;
  const url = `http://${options.host}:${port}`;
  const kubeconfig = renderKubeconfig(url);
  const runpod = new RunPodSimulator({
    host: options.host,
    port: options.runpodPort ?? 0,
    speed: options.speed,
    catalog: options.runpodCatalog,
    log: options.log,
  });
  const runpodUrl = await runpod.listen();
  if (options.kubeconfigPath) {
    await mkdir(dirname(options.kubeconfigPath), { recursive: true });
    await writeFile(options.kubeconfigPath, kubeconfig, { mode: 0o600 });
  }

  const compute = new ComputeSimulator(cluster, store, {
    host: options.host,
    port: options.computePort ?? 0,
    log: options.log,
  });
  const computeUrl = await compute.start();

  // The resourceVersion the file holds: every change bumps it, so an unchanged one means the
  // file already is the state and serialising the whole store again would write the same bytes.
  let savedRv: number | undefined;
  const writeSnapshot = async (file: string) => {
    const rv = store.resourceVersion;
    if (rv === savedRv) return;
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(store.snapshot()));
    await rename(tmp, file);
    savedRv = rv;
  };
  // One save at a time: a periodic save still writing when shutdown saves again would share the
  // temporary file, and the second rename would find it gone.
  let saving: Promise<void> = Promise.resolve();
  const saveSnapshot = (): Promise<void> => {
    const file = options.snapshotFile;
    if (!file) return Promise.resolve();
    const next = saving.catch(() => undefined).then(() => writeSnapshot(file));
    saving = next;
    return next;
  };
  const snapshotTimer = options.snapshotFile
    ? setInterval(() => {
        saveSnapshot().catch((err: unknown) =>
          options.log(`[sim] snapshot failed: ${String(err)}`),
        );
      }, options.snapshotIntervalSeconds * 1000)
    : undefined;
  snapshotTimer?.unref();

  options.log(
    `[sim] SIMULATED Kubernetes API (roam sim, not a real cluster) listening on ${url}, speed x${options.speed}, ${store.count('nodes')} nodes in ${world.pools.length} pools`,
  );
  if (options.kubeconfigPath) options.log(`[sim] kubeconfig written to ${options.kubeconfigPath}`);

  let closed = false;
  return {
    url,
    port,
    kubeconfigPath: options.kubeconfigPath,
    kubeconfig,
    speed: options.speed,
    cluster,
    store,
    registry,
    files,
    logs,
    saveSnapshot,
    computeUrl,
    compute,
    runpod,
    runpodUrl,
    calls,
    close: async () => {
      if (closed) return;
      closed = true;
      if (snapshotTimer) clearInterval(snapshotTimer);
      clock.close();
      kubelet.close();
      cluster.close();
      for (const c of controllers) c.close();
      api.endStreams();
      await compute.close();
      await new Promise<void>((resolve) => {
        api.http.close(() => resolve());
        api.http.closeAllConnections();
      });
      await runpod.close();
      await saveSnapshot();
    },
  };
}

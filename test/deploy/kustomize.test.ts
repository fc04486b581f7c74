import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { type AppName, gatewayEnv, workerPorts } from '@roam/config';
import { busApps, natsPasswordVariable } from '@roam/messaging';
import { parse } from 'yaml';

import { appNames, envSchema, repoRoot, resolveLaunch, schemaKeys } from './deploy-helpers.js';
import { type K8sObject, render, renderWithComponents } from './kustomize-render.js';

/**
 * deploy/ rendered with `kubectl kustomize` for both overlays, checked against the code: one
 * Deployment per app in libs/config's `workerPorts`, probes on the health routes at the app's
 * port, env keys that the app's zod schema knows and that parse, least-privilege RBAC, PDBs,
 * default-deny network policies, the migration Job.
 */

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string } }[];
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: { metadata: { labels?: Record<string, string> }; spec: PodSpec };
  };
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}
interface RoleObject extends K8sObject {
  rules?: Rule[];
}
interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}
interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: unknown[]; ports?: { port?: number | string }[] }[];
    egress?: unknown[];
  };
}
interface ConfigMapOrSecret extends K8sObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The Kubernetes API calls each worker makes, as the brief for each worker lists them. */
const required: Partial<Record<AppName, [group: string, resource: string, verbs: string[]][]>> = {
  scheduler: [
    ['', 'namespaces', ['create', 'patch', 'delete']],
    ['', 'resourcequotas', ['create', 'patch']],
    ['', 'limitranges', ['create', 'patch']],
    ['', 'persistentvolumeclaims', ['create', 'patch']],
    ['batch', 'jobs', ['create', 'patch']],
    ['', 'nodes', ['get', 'list']],
  ],
  reconciler: [
    ['batch', 'jobs', ['list', 'watch', 'delete']],
    ['', 'pods', ['list', 'watch']],
    ['', 'pods/log', ['get']],
  ],
  offload: [
    ['batch', 'jobs', ['watch', 'patch']],
    ['', 'pods', ['watch', 'create', 'delete']],
    ['', 'nodes', ['create', 'delete']],
  ],
  failover: [
    ['', 'nodes', ['patch']],
    ['', 'pods', ['list', 'delete']],
    ['jobset.x-k8s.io', 'jobsets', ['get']],
  ],
  storage: [['', 'pods/log', ['get']]],
};
/** The migration Job's connection (libs/db/src/migrate/migrate.ts). */
const MIGRATION_CONNECTIONS = 1;
/**
 * The server's max_connections each overlay is sized for: dev's in-cluster postgres:16 keeps
 * the default; prod needs what deploy/README.md ("Postgres connections") asks of your server.
 */
const POSTGRES_MAX_CONNECTIONS = { dev: 100, prod: 300 };
const leaderElecting: AppName[] = ['scheduler', 'reconciler', 'offload', 'failover'];
const noKubeAccess: AppName[] = ['notifier'];

const secretTemplate = parse(
  readFileSync(join(repoRoot, 'deploy/base/secret.example.yaml'), 'utf8'),
) as ConfigMapOrSecret;

function byKind<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

const quantityUnits: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes quantity such as `64Mi` or `1G`. */
function bytesOf(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([kMGT]i?|Ki)?$/.exec(quantity);
  expect({ quantity, valid: match !== null }).toEqual({ quantity, valid: true });
  return Number(match![1]) * quantityUnits[match![2] ?? '']!;
}

function deploymentFor(objects: K8sObject[], app: AppName): Workload {
  const found = byKind<Workload>(objects, 'Deployment').filter(
    (d) => d.spec.template.metadata.labels?.['app.kubernetes.io/name'] === app,
  );
  expect(found.map((d) => d.metadata.name)).toEqual([`roam-${app}`]);
  return found[0]!;
}

function portOf(container: Container, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>) {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

/** Every permission a ServiceAccount gets, through every binding that names it. */
function permissions(objects: K8sObject[], namespace: string, serviceAccount: string) {
  const roles = [
    ...byKind<RoleObject>(objects, 'Role'),
    ...byKind<RoleObject>(objects, 'ClusterRole'),
  ];
  const bindings = [
    ...byKind<Binding>(objects, 'RoleBinding'),
    ...byKind<Binding>(objects, 'ClusterRoleBinding'),
  ].filter((binding) =>
    (binding.subjects ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace,
    ),
  );
  const boundRoles = bindings.map((binding) => {
    const role = roles.find(
      (r) => r.kind === binding.roleRef.kind && r.metadata.name === binding.roleRef.name,
    );
    expect({ binding: binding.metadata.name, found: role !== undefined }).toEqual({
      binding: binding.metadata.name,
      found: true,
    });
    return role!;
  });
  return { bindings, roles: boundRoles, rules: boundRoles.flatMap((role) => role.rules ?? []) };
}

function allows(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some(
    (rule) =>
      (rule.apiGroups ?? []).includes(group) &&
      (rule.resources ?? []).includes(resource) &&
      rule.verbs.includes(verb),
  );
}

const overlays = {
  dev: render('deploy/overlays/dev'),
  prod: render('deploy/overlays/prod'),
};

describe.each(Object.entries(overlays))('deploy/overlays/%s', (overlay, { objects }) => {
  const namespace = 'roam';
  const configMaps = byKind<ConfigMapOrSecret>(objects, 'ConfigMap');
  const secrets = byKind<ConfigMapOrSecret>(objects, 'Secret');

  /** The environment a container sees, with Secret values from the overlay or the template. */
  function containerEnv(container: Container): Record<string, string> {
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      expect(source.secretRef).toBeUndefined(); // secrets are read key by key (secretKeyRef)
      const configMap = configMaps.find((c) => c.metadata.name === source.configMapRef?.name);
      expect(configMap).toBeDefined();
      Object.assign(env, configMap!.data);
    }
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = secrets.find((s) => s.metadata.name === ref.name);
        const value = secret
          ? (secret.stringData?.[ref.key] ??
            Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString())
          : secretTemplate.stringData?.[ref.key];
        // Rendered by the overlay (dev) or created out of band from the template (prod).
        if (secret === undefined) expect(ref.name).toBe(secretTemplate.metadata.name);
        expect({ key: ref.key, value }).toEqual({ key: ref.key, value: expect.any(String) });
        expect(value).not.toBe('');
        env[variable.name] = value!;
      } else {
        expect(variable.value).toEqual(expect.any(String));
        env[variable.name] = variable.value!;
      }
    }
    return env;
  }

  it.each(appNames)('%s: a Deployment running the app from the roam image', (app) => {
    const deployment = deploymentFor(objects, app);
    const [container, ...others] = deployment.spec.template.spec.containers;
    expect(others).toEqual([]);
    expect(container!.command).toBeUndefined();
    expect(resolveLaunch(container!.args ?? []).module).toBe(
      join(repoRoot, 'apps', app, 'dist/main.js'),
    );
    expect(container!.image).toBe(
      overlay === 'dev' ? 'roam:dev' : 'registry.example.com/roam:0.1.0',
    );
    expect(
      selects(deployment.spec.selector?.matchLabels, deployment.spec.template.metadata.labels!),
    ).toBe(true);
  });

  it.each(appNames)('%s: liveness and readiness probes on the health routes at its port', (app) => {
    const container = deploymentFor(objects, app).spec.template.spec.containers[0]!;
    const port = workerPorts[app];
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(portOf(container, container.livenessProbe?.httpGet?.port)).toBe(port);
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(portOf(container, container.readinessProbe?.httpGet?.port)).toBe(port);
  });

  it.each(appNames)('%s: env and ConfigMap keys belong to its schema, and parse', (app) => {
    const container = deploymentFor(objects, app).spec.template.spec.containers[0]!;
    const env = containerEnv(container);
    const keys = schemaKeys(app);
    expect(Object.keys(env).filter((key) => !keys.includes(key))).toEqual([]);
    const parsed = envSchema(app).safeParse(env);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.PORT).toBe(workerPorts[app]);
    expect(parsed.data?.HOST).toBe('0.0.0.0');
    expect(parsed.data?.NODE_ENV).toBe('production');
  });

  it.each(appNames)('%s: non-root, read-only root filesystem, requests and limits', (app) => {
    const pod = deploymentFor(objects, app).spec.template.spec;
    const container = pod.containers[0]!;
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    for (const kind of ['requests', 'limits'] as const) {
      expect(container.resources?.[kind]?.['cpu']).toEqual(expect.any(String));
      expect(container.resources?.[kind]?.['memory']).toEqual(expect.any(String));
    }
  });

  it.each(appNames)('%s: its own ServiceAccount, bound only to its own roles', (app) => {
    const pod = deploymentFor(objects, app).spec.template.spec;
    const serviceAccount = byKind(objects, 'ServiceAccount').find(
      (sa) => sa.metadata.name === pod.serviceAccountName && sa.metadata.namespace === namespace,
    );
    expect(serviceAccount?.metadata.name).toBe(`roam-${app}`);
    const others = byKind<Workload>(objects, 'Deployment').filter(
      (d) => d.metadata.name !== `roam-${app}`,
    );
    expect(others.map((d) => d.spec.template.spec.serviceAccountName)).not.toContain(
      pod.serviceAccountName,
    );
    const { bindings, roles } = permissions(objects, namespace, pod.serviceAccountName!);
    for (const object of [...bindings, ...roles]) {
      expect({
        name: object.metadata.name,
        app: object.metadata.labels?.['app.kubernetes.io/name'],
      }).toEqual({ name: expect.stringMatching(new RegExp(`^roam-${app}(-|$)`)), app });
    }
    for (const binding of bindings) expect(binding.subjects).toHaveLength(1);
  });

  it.each(noKubeAccess)('%s: no Kubernetes permissions and no token', (app) => {
    const pod = deploymentFor(objects, app).spec.template.spec;
    expect(permissions(objects, namespace, pod.serviceAccountName!).bindings).toEqual([]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('gateway: the /tmp emptyDir holds MAX_FILE_SIZE_MB × UPLOADS_PER_REPLICA of staged uploads', () => {
    const pod = deploymentFor(objects, 'gateway').spec.template.spec;
    const container = pod.containers[0]!;
    const env = containerEnv(container);
    // Set on the Deployment itself, so a change of either is seen next to the volume.
    for (const key of ['MAX_FILE_SIZE_MB', 'UPLOADS_PER_REPLICA', 'UPLOADS_PER_TENANT'])
      expect(container.env?.map((variable) => variable.name)).toContain(key);
    const config = gatewayEnv.parse(env);
    const mount = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.emptyDir?.sizeLimit).toEqual(expect.any(String));
    const staged = config.MAX_FILE_SIZE_MB * 2 ** 20 * config.UPLOADS_PER_REPLICA;
    expect(bytesOf(volume!.emptyDir!.sizeLimit!)).toBeGreaterThan(staged);
    expect(config.UPLOADS_PER_TENANT).toBeLessThanOrEqual(config.UPLOADS_PER_REPLICA);
  });

  it('gateway: reads the cluster (capacity, logs, quotas, dashboards) and writes nothing', () => {
    const pod = deploymentFor(objects, 'gateway').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    const { rules } = permissions(objects, namespace, pod.serviceAccountName!);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules)
      expect(rule.verbs.filter((verb) => !['get', 'list', 'watch'].includes(verb))).toEqual([]);
    expect(allows(rules, '', 'pods/log', 'get')).toBe(true);
  });

  it.each(Object.keys(required) as AppName[])('%s: RBAC grants the calls it makes', (app) => {
    const { rules } = permissions(objects, namespace, `roam-${app}`);
    const missing = (required[app] ?? []).flatMap(([group, resource, verbs]) =>
      verbs
        .filter((verb) => !allows(rules, group, resource, verb))
        .map((verb) => `${group}/${resource}:${verb}`),
    );
    expect(missing).toEqual([]);
    const leases = ['get', 'create', 'update'].every((verb) =>
      allows(rules, 'coordination.k8s.io', 'leases', verb),
    );
    expect(leases).toBe(leaderElecting.includes(app));
    // Leases stay in roam's namespace: a namespaced Role, not a ClusterRole.
    const { roles } = permissions(objects, namespace, `roam-${app}`);
    for (const role of roles) {
      if ((role.rules ?? []).some((rule) => rule.resources?.includes('leases'))) {
        expect(role.kind).toBe('Role');
      }
    }
  });

  it('no RBAC rule uses a wildcard or non-resource URLs, and nothing binds to cluster-admin', () => {
    const roles = [
      ...byKind<RoleObject>(objects, 'Role'),
      ...byKind<RoleObject>(objects, 'ClusterRole'),
    ];
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        expect([...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])]).not.toContain(
          '*',
        );
        expect(rule.nonResourceURLs).toBeUndefined();
        expect(rule.resources?.some((resource) => resource.includes('*')) ?? false).toBe(false);
      }
    }
    const bindings = [
      ...byKind<Binding>(objects, 'RoleBinding'),
      ...byKind<Binding>(objects, 'ClusterRoleBinding'),
    ];
    for (const binding of bindings) {
      expect(roles.map((r) => r.metadata.name)).toContain(binding.roleRef.name);
    }
  });

  it('a PodDisruptionBudget for every Deployment of roam', () => {
    const pdbs = byKind<
      K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number };
      }
    >(objects, 'PodDisruptionBudget');
    for (const app of appNames) {
      const labels = deploymentFor(objects, app).spec.template.metadata.labels!;
      const matching = pdbs.filter((pdb) => selects(pdb.spec.selector.matchLabels, labels));
      expect({ app, pdbs: matching.length }).toEqual({ app, pdbs: 1 });
    }
  });

  it('Services: the gateway on 80 → 8000; each worker on its own port', () => {
    const services = byKind<
      K8sObject & {
        spec: {
          selector: Record<string, string>;
          ports: { port: number; targetPort: string | number }[];
        };
      }
    >(objects, 'Service');
    for (const app of appNames) {
      const container = deploymentFor(objects, app).spec.template.spec.containers[0]!;
      const service = services.find((s) => s.spec.selector['app.kubernetes.io/name'] === app);
      expect(service?.metadata.name).toBe(`roam-${app}`);
      const [port] = service!.spec.ports;
      expect(port!.port).toBe(app === 'gateway' ? 80 : workerPorts[app]);
      expect(portOf(container, port!.targetPort)).toBe(workerPorts[app]);
    }
  });

  it('network policies: default deny, and only the gateway open to ingress from anywhere', () => {
    const policies = byKind<NetworkPolicy>(objects, 'NetworkPolicy');
    const deny = policies.find(
      (p) =>
        Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0 &&
        p.spec.ingress === undefined &&
        p.spec.egress === undefined,
    );
    expect(deny?.spec.policyTypes?.sort()).toEqual(['Egress', 'Ingress']);
    for (const policy of policies) {
      for (const rule of policy.spec.ingress ?? []) {
        if (rule.from === undefined || rule.from.length === 0) {
          // Open to any source: the gateway on its port only.
          expect(policy.spec.podSelector.matchLabels).toEqual({
            'app.kubernetes.io/name': 'gateway',
          });
          expect(rule.ports?.map((p) => p.port)).toEqual([workerPorts.gateway]);
        }
      }
    }
    // Every roam pod may resolve names and reach Postgres and NATS.
    const egressPorts = policies
      .filter((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/part-of'] === 'roam')
      .flatMap((p) => (p.spec.egress ?? []) as { ports?: { port: number }[] }[])
      .flatMap((rule) => (rule.ports ?? []).map((port) => port.port));
    expect(egressPorts).toEqual(expect.arrayContaining([53, 5432, 4222]));
  });

  it('the migration Job runs `migrate` with DATABASE_URL, before the rollout', () => {
    const jobs = byKind<Workload>(objects, 'Job');
    const job = jobs.find((j) => j.metadata.name === 'roam-migrate');
    expect(job?.metadata.labels?.['roam.dev/stage']).toBe('pre-rollout');
    const container = job!.spec.template.spec.containers[0]!;
    const launch = resolveLaunch(container.args ?? []);
    expect(launch.module).toBe(join(repoRoot, 'libs/db/dist/migrate/cli.js'));
    expect(launch.args).toEqual(['deploy']);
    const env = containerEnv(container);
    expect(Object.keys(env)).toEqual(['DATABASE_URL']);
    expect(new URL(env['DATABASE_URL']!).protocol).toBe('postgresql:');
    // What the Job needs is applied with it (`kubectl apply -l roam.dev/stage=pre-rollout`).
    const preRollout = objects.filter(
      (o) => o.metadata.labels?.['roam.dev/stage'] === 'pre-rollout',
    );
    const names = preRollout.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining(['Namespace/roam', 'ServiceAccount/roam-migrate']),
    );
    const secretRef = container.env?.[0]?.valueFrom?.secretKeyRef?.name;
    if (overlay === 'dev') {
      expect(names).toContain(`Secret/${secretRef}`);
      expect(names).toEqual(expect.arrayContaining(['Deployment/postgres', 'Service/postgres']));
    }
  });

  it("at full scale-out, mid-rollout, the Postgres pools fit the server's max_connections", () => {
    // Every pod a Deployment may run at once: a rollout can run each old pod (draining for up
    // to its grace period) beside its new one, at the HPA's ceiling (or the replica count).
    const hpas = byKind<
      K8sObject & { spec: { scaleTargetRef: { name: string }; maxReplicas: number } }
    >(objects, 'HorizontalPodAutoscaler');
    const byApp = appNames.map((app) => {
      const deployment = deploymentFor(objects, app);
      const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === deployment.metadata.name);
      const pods = 2 * (hpa?.spec.maxReplicas ?? deployment.spec.replicas ?? 1);
      const env = containerEnv(deployment.spec.template.spec.containers[0]!);
      const pool = envSchema(app).shape.DATABASE_POOL_SIZE.parse(env['DATABASE_POOL_SIZE']);
      return pods * pool;
    });
    const total = byApp.reduce((sum, n) => sum + n, MIGRATION_CONNECTIONS);
    // Less PostgreSQL's superuser_reserved_connections (3).
    expect(total).toBeLessThanOrEqual(POSTGRES_MAX_CONNECTIONS[overlay as 'dev' | 'prod'] - 3);
  });

  it('everything but cluster-scoped objects lives in the roam namespace', () => {
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'Node'];
    for (const object of objects) {
      expect({
        object: `${object.kind}/${object.metadata.name}`,
        namespace: object.metadata.namespace,
      }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        namespace: clusterScoped.includes(object.kind) ? undefined : namespace,
      });
    }
  });
});

describe('overlay differences', () => {
  const replicas = (objects: K8sObject[], app: AppName) =>
    deploymentFor(objects, app).spec.replicas;

  it('dev runs one replica of everything; prod two gateways with an HPA', () => {
    for (const app of appNames) expect(replicas(overlays.dev.objects, app)).toBe(1);
    expect(replicas(overlays.prod.objects, 'gateway')).toBe(2);
    const hpa = byKind<
      K8sObject & { spec: { scaleTargetRef: { name: string }; minReplicas: number } }
    >(overlays.prod.objects, 'HorizontalPodAutoscaler');
    expect(hpa.map((h) => [h.spec.scaleTargetRef.name, h.spec.minReplicas])).toEqual([
      ['roam-gateway', 2],
    ]);
  });

  it('prod renders no Secret (created out of band); dev generates one with the template keys', () => {
    expect(byKind(overlays.prod.objects, 'Secret')).toEqual([]);
    const [secret] = byKind<ConfigMapOrSecret>(overlays.dev.objects, 'Secret');
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(
      Object.keys(secretTemplate.stringData ?? {}).sort(),
    );
  });

  it('the secret template only holds keys some app schema knows', () => {
    // Besides the apps' keys: the per-app NATS passwords the nats-server reads.
    const known = new Set([...appNames.flatMap(schemaKeys), ...busApps.map(natsPasswordVariable)]);
    expect(Object.keys(secretTemplate.stringData ?? {}).filter((key) => !known.has(key))).toEqual(
      [],
    );
    expect(secretTemplate.metadata.labels?.['roam.dev/stage']).toBe('pre-rollout');
  });
});

describe('optional components', () => {
  const objects = renderWithComponents('deploy/overlays/dev', [
    'deploy/components/kueue',
    'deploy/components/runpod-virtual-node',
  ]);
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name) as
      (K8sObject & { spec: Record<string, unknown> }) | undefined;

  it('kueue: the ResourceFlavor, and ROAM_ADMISSION=kueue on the scheduler and the gateway', () => {
    const flavor = find('ResourceFlavor', 'default-flavor');
    expect(flavor?.metadata.namespace).toBeUndefined();
    // The scheduler makes each tenant's ClusterQueue and LocalQueue; the component ships none.
    expect(objects.filter((o) => o.kind === 'ClusterQueue' || o.kind === 'LocalQueue')).toEqual([]);
    for (const name of ['roam-scheduler', 'roam-gateway']) {
      const deployment = find('Deployment', name) as
        | {
            spec: {
              template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } };
            };
          }
        | undefined;
      expect(deployment?.spec.template.spec.containers[0]?.env).toContainEqual({
        name: 'ROAM_ADMISSION',
        value: 'kueue',
      });
    }
  });

  it('kueue: the scheduler may create queues and follow Workloads, still without wildcards', () => {
    const { rules, roles } = permissions(objects, 'roam', 'roam-scheduler');
    expect(allows(rules, 'kueue.x-k8s.io', 'localqueues', 'create')).toBe(true);
    expect(allows(rules, 'kueue.x-k8s.io', 'clusterqueues', 'delete')).toBe(true);
    expect(allows(rules, 'kueue.x-k8s.io', 'workloads', 'watch')).toBe(true);
    expect(allows(rules, 'kueue.x-k8s.io', 'workloads', 'delete')).toBe(false);
    for (const role of roles)
      expect(role.metadata.labels?.['app.kubernetes.io/name']).toBe('scheduler');
    for (const rule of rules) expect([...rule.verbs, ...(rule.resources ?? [])]).not.toContain('*');
  });

  it('runpod virtual node: a tainted, cluster-scoped Node', () => {
    const node = find('Node', 'runpod-virtual-node');
    expect(node?.metadata.namespace).toBeUndefined();
    expect(node?.metadata.labels?.['type']).toBe('virtual-kubelet');
    expect(node?.spec.taints).toEqual([
      expect.objectContaining({ key: 'virtual-kubelet.io/provider', effect: 'NoSchedule' }),
    ]);
  });
});

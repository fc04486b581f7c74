// The resource types the simulator serves out of the box. Each entry is data, not a branch
// in a switch: a CRD is one more `registry.register` call (see jobset below).
import type {
  Condition,
  Job,
  Namespace,
  Node,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Service,
} from './models.js';
import type { Column, KubeObject, Registry, ResourceType } from './registry.js';
import { parseResourceList } from './quantity.js';
import { invalidValue, required, type StatusCause } from './status.js';
import { validateLabels, validatePodSpec } from './validation.js';

export function formatAge(from: string | undefined, now: number): string {
  if (!from) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function col<T extends KubeObject = KubeObject>(
  name: string,
  cell: (o: T, now: number) => string | number | boolean,
  extra: Partial<Column> = {},
): Column {
  return { name, type: 'string', cell: (o, now) => cell(o as T, now), ...extra };
}

const age = col('Age', (o, now) => formatAge(o.metadata.creationTimestamp, now));

export function podStatusReason(obj: KubeObject): string {
  const pod = obj as Pod;
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Pending';
  for (const cs of pod.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'ContainerCreating')
      reason = cs.state.waiting.reason;
    else if (cs.state?.waiting?.reason === 'ContainerCreating' && reason === 'Pending')
      reason = 'ContainerCreating';
    else if (cs.state?.terminated?.reason && pod.status?.phase !== 'Running')
      reason = cs.state.terminated.reason;
  }
  return reason;
}

function jobStatus(obj: KubeObject): string {
  const conds: Condition[] = (obj as Job).status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

const ACCESS_MODES: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};

function durationOf(start?: string, end?: string, now = Date.now()): string {
  if (!start) return '';
  return formatAge(start, end ? Date.parse(end) : now);
}

function nonEmptyObject(field: string, value: unknown): StatusCause[] {
  if (value === undefined || value === null) return [required(field)];
  if (typeof value !== 'object' || Array.isArray(value))
    return [invalidValue(field, value, 'must be an object')];
  return [];
}

const core = (t: Omit<ResourceType, 'group' | 'version'>): ResourceType => ({
  group: '',
  version: 'v1',
  ...t,
});

export const builtinTypes: ResourceType[] = [
  core({
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    nameIsLabel: true,
    subresources: ['status', 'finalize'],
    fieldLabels: ['status.phase'],
    columns: [col<Namespace>('Status', (o) => o.status?.phase ?? 'Active'), age],
    defaults: (obj) => {
      const o = obj as Namespace;
      o.spec = { finalizers: ['kubernetes'], ...(o.spec ?? {}) };
      o.status = { phase: 'Active' };
      o.metadata.labels = {
        ...(o.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': o.metadata.name ?? '',
      };
    },
  }),
  core({
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
    fieldLabels: ['spec.unschedulable'],
    columns: [
      col<Node>('Status', (o) => {
        const ready = (o.status?.conditions ?? []).find((c) => c.type === 'Ready');
        const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
        return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
      }),
      col('Roles', () => '<none>'),
      age,
      col<Node>('Version', (o) => o.status?.nodeInfo?.kubeletVersion ?? ''),
      col<Node>(
        'Internal-IP',
        (o) =>
          (o.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address ?? '<none>',
        { priority: 1 },
      ),
    ],
  }),
  core({
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log', 'eviction', 'binding'],
    fieldLabels: [
      'spec.nodeName',
      'status.phase',
      'spec.restartPolicy',
      'spec.schedulerName',
      'status.podIP',
    ],
    columns: [
      col<Pod>('Ready', (o) => {
        const cs = o.status?.containerStatuses ?? [];
        return `${cs.filter((c) => c.ready).length}/${(o.spec?.containers ?? []).length}`;
      }),
      col('Status', (o) => podStatusReason(o)),
      col<Pod>(
        'Restarts',
        (o) => (o.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
        { type: 'integer' },
      ),
      age,
      col<Pod>('IP', (o) => o.status?.podIP ?? '<none>', { priority: 1 }),
      col<Pod>('Node', (o) => o.spec?.nodeName ?? '<none>', { priority: 1 }),
    ],
    validate: (o) => validatePodSpec('spec', o.spec),
    defaults: (obj) => {
      const o = obj as Pod;
      const spec = o.spec ?? { containers: [] };
      spec.restartPolicy ??= 'Always';
      spec.schedulerName ??= 'default-scheduler';
      spec.terminationGracePeriodSeconds ??= 30;
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.serviceAccountName ??= 'default';
      spec.priority ??= 0;
      spec.tolerations ??= [];
      for (const t of ['not-ready', 'unreachable']) {
        if (!spec.tolerations.some((x) => x.key === `node.kubernetes.io/${t}`)) {
          spec.tolerations.push({
            key: `node.kubernetes.io/${t}`,
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 300,
          });
        }
      }
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        c.imagePullPolicy ??=
          String(c.image ?? '').endsWith(':latest') || !String(c.image ?? '').includes(':')
            ? 'Always'
            : 'IfNotPresent';
        c.terminationMessagePath ??= '/dev/termination-log';
        c.terminationMessagePolicy ??= 'File';
        c.resources ??= {};
        if (c.resources.limits) {
          c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
        }
      }
      o.spec = spec;
      const reqs = spec.containers.map(
        (c) =>
          [
            parseResourceList(c.resources?.requests),
            parseResourceList(c.resources?.limits),
          ] as const,
      );
      const guaranteed =
        reqs.length > 0 &&
        reqs.every(
          ([r, l]) =>
            l.cpu !== undefined &&
            l.memory !== undefined &&
            r.cpu === l.cpu &&
            r.memory === l.memory,
        );
      const besteffort = reqs.every(
        ([r, l]) => Object.keys(r).length === 0 && Object.keys(l).length === 0,
      );
      o.status = {
        phase: 'Pending',
        qosClass: guaranteed ? 'Guaranteed' : besteffort ? 'BestEffort' : 'Burstable',
      };
    },
  }),
  core({
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    columns: [
      col(
        'Data',
        (o) =>
          Object.keys((o.data as object) ?? {}).length +
          Object.keys((o.binaryData as object) ?? {}).length,
        { type: 'integer' },
      ),
      age,
    ],
    validate: (o) => {
      const out: StatusCause[] = [];
      for (const [k, v] of Object.entries((o.data as Record<string, unknown>) ?? {})) {
        if (typeof v !== 'string') out.push(invalidValue(`data[${k}]`, v, 'must be a string'));
      }
      return out;
    },
  }),
  core({
    kind: 'Secret',
    plural: 'secrets',
    singular: 'secret',
    namespaced: true,
    columns: [
      col('Type', (o) => (typeof o.type === 'string' ? o.type : 'Opaque')),
      col('Data', (o) => Object.keys((o.data as object) ?? {}).length, { type: 'integer' }),
      age,
    ],
    defaults: (o) => {
      o.type ??= 'Opaque';
      const stringData = o.stringData as Record<string, string> | undefined;
      if (stringData) {
        const data = { ...((o.data as Record<string, string>) ?? {}) };
        for (const [k, v] of Object.entries(stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
        o.data = data;
        delete o.stringData;
      }
    },
  }),
  core({
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    singular: 'resourcequota',
    namespaced: true,
    shortNames: ['quota'],
    subresources: ['status'],
    columns: [
      age,
      col<ResourceQuota>('Request', (o) =>
        Object.entries(o.spec?.hard ?? {})
          .map(([k, v]) => `${k}: ${o.status?.used?.[k] ?? '0'}/${v}`)
          .join(', '),
      ),
    ],
    validate: (o) => nonEmptyObject('spec', o.spec),
  }),
  core({
    kind: 'LimitRange',
    plural: 'limitranges',
    singular: 'limitrange',
    namespaced: true,
    shortNames: ['limits'],
    columns: [col('Created At', (o) => o.metadata.creationTimestamp ?? '', { type: 'date' })],
    validate: (o) =>
      Array.isArray((o.spec as { limits?: unknown } | undefined)?.limits)
        ? []
        : [required('spec.limits')],
  }),
  core({
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: ['status'],
    columns: [
      col<PersistentVolumeClaim>('Status', (o) => o.status?.phase ?? 'Pending'),
      col<PersistentVolumeClaim>('Volume', (o) => o.spec?.volumeName ?? ''),
      col<PersistentVolumeClaim>('Capacity', (o) => String(o.status?.capacity?.storage ?? '')),
      col<PersistentVolumeClaim>('Access Modes', (o) =>
        (o.status?.accessModes ?? []).map((m) => ACCESS_MODES[m] ?? m).join(','),
      ),
      col<PersistentVolumeClaim>('StorageClass', (o) => o.spec?.storageClassName ?? '<unset>'),
      age,
    ],
    validate: (obj) => {
      const o = obj as PersistentVolumeClaim;
      const out: StatusCause[] = [];
      if (!Array.isArray(o.spec?.accessModes) || o.spec.accessModes.length === 0)
        out.push(required('spec.accessModes'));
      if (!o.spec?.resources?.requests?.storage) out.push(required('spec.resources[storage]'));
      return out;
    },
    defaults: (obj) => {
      const o = obj as PersistentVolumeClaim;
      o.spec ??= {};
      o.spec.storageClassName ??= 'standard';
      o.spec.volumeMode ??= 'Filesystem';
      o.status = { phase: 'Pending' };
    },
  }),
  core({
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    namePriority: 1,
    fieldLabels: [
      'involvedObject.kind',
      'involvedObject.name',
      'involvedObject.namespace',
      'involvedObject.uid',
      'reason',
      'type',
      'source',
    ],
    columns: [
      col('Last Seen', (o, now) =>
        formatAge(
          typeof o.lastTimestamp === 'string' ? o.lastTimestamp : o.metadata.creationTimestamp,
          now,
        ),
      ),
      col('Type', (o) => (typeof o.type === 'string' ? o.type : '')),
      col('Reason', (o) => (typeof o.reason === 'string' ? o.reason : '')),
      col('Object', (o) => {
        const inv = (o.involvedObject ?? {}) as { kind?: string; name?: string };
        return `${(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`;
      }),
      col('Message', (o) => (typeof o.message === 'string' ? o.message : '')),
    ],
    validate: (o) => (o.involvedObject ? [] : [required('involvedObject')]),
  }),
  core({
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    nameIsLabel: true,
    subresources: ['status'],
    columns: [
      col<Service>('Type', (o) => o.spec?.type ?? 'ClusterIP'),
      col<Service>('Cluster-IP', (o) => o.spec?.clusterIP ?? ''),
      col('External-IP', () => '<none>'),
      col<Service>(
        'Port(s)',
        (o) =>
          (o.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') ||
          '<none>',
      ),
      age,
    ],
    defaults: (obj) => {
      const o = obj as Service;
      o.spec ??= {};
      o.spec.type ??= 'ClusterIP';
      o.spec.clusterIP ??= `10.96.${Math.floor(Math.random() * 255)}.${1 + Math.floor(Math.random() * 253)}`;
      o.spec.clusterIPs ??= [o.spec.clusterIP];
      for (const p of o.spec.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      o.status ??= { loadBalancer: {} };
    },
  }),
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    categories: ['all'],
    subresources: ['status'],
    fieldLabels: ['status.successful'],
    columns: [
      col('Status', (o) => jobStatus(o)),
      col<Job>('Completions', (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`),
      col<Job>('Duration', (o) => durationOf(o.status?.startTime, o.status?.completionTime)),
      age,
    ],
    validate: (obj) => {
      const o = obj as Job;
      const out: StatusCause[] = [];
      const tpl = o.spec?.template;
      if (!tpl) return [required('spec.template')];
      out.push(...validateLabels('spec.template.metadata.labels', tpl.metadata?.labels));
      out.push(...validatePodSpec('spec.template.spec', tpl.spec));
      const rp = tpl.spec?.restartPolicy;
      if (rp !== 'Never' && rp !== 'OnFailure') {
        out.push({
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: "${rp ?? 'Always'}": supported values: "OnFailure", "Never"`,
          field: 'spec.template.spec.restartPolicy',
        });
      }
      for (const f of [
        'parallelism',
        'completions',
        'backoffLimit',
        'activeDeadlineSeconds',
        'ttlSecondsAfterFinished',
      ] as const) {
        const v = o.spec?.[f];
        if (v !== undefined && v !== null && !(Number.isInteger(v) && v >= 0))
          out.push(invalidValue(`spec.${f}`, v, 'must be greater than or equal to 0'));
      }
      return out;
    },
    defaults: (obj) => {
      const o = obj as Job;
      const spec = o.spec!;
      if (spec.parallelism === undefined && spec.completions === undefined) spec.completions = 1;
      spec.parallelism ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      spec.podReplacementPolicy ??= 'TerminatingOrFailed';
      const uid = o.metadata.uid ?? '';
      if (spec.manualSelector !== true) {
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        const labels = {
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': o.metadata.name ?? '',
          'controller-uid': uid,
          'job-name': o.metadata.name ?? '',
        };
        spec.template.metadata = {
          ...(spec.template.metadata ?? {}),
          labels: { ...(spec.template.metadata?.labels ?? {}), ...labels },
        };
        o.metadata.labels = { ...labels, ...(o.metadata.labels ?? {}) };
      }
      o.status = {};
    },
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    columns: [
      col<KubeObject<{ holderIdentity?: string }>>('Holder', (o) => o.spec?.holderIdentity ?? ''),
      age,
    ],
  },
];

export function registerBuiltins(registry: Registry): void {
  for (const t of builtinTypes) registry.register(t);
}

// kube-scheduler in miniature: binds pending pods to Ready, schedulable nodes whose free
// allocatable fits the requests, honouring nodeSelector, required node affinity and
// taints/tolerations. Node usage is tracked incrementally from pod events.
import type { Node, NodeSelectorRequirement, Pod, Taint, Toleration } from '../api/models.js';
import { parseResourceList, type ResourceList } from '../api/quantity.js';
import type { KubeObject } from '../api/registry.js';
import { isTerminal, podResources } from '../admission/resources.js';
import type { Store, StoredEvent } from '../store/store.js';
import { EXCLUSIVE_TOPOLOGY, JOBSET_LABELS } from './jobset.js';
import { EventRecorder, nowIso, nsName, setCondition, splitKey, WorkQueue } from './runtime.js';

interface NodeView {
  name: string;
  node: Node;
  free: ResourceList;
  freePods: number;
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function matchExpr(expr: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
  const v = labels[expr.key];
  const values = expr.values ?? [];
  switch (expr.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(v) > Number(values[0]);
    case 'Lt':
      return has && Number(v) < Number(values[0]);
    default:
      return false;
  }
}

export function matchesNodeSelection(pod: Pod, node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {}))
    if (labels[k] !== v) return false;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some(
    (term) =>
      (term.matchExpressions ?? []).every((e) => matchExpr(e, labels)) &&
      (term.matchFields ?? []).every((e) =>
        matchExpr({ ...e, key: 'metadata.name' }, { 'metadata.name': node.metadata.name ?? '' }),
      ),
  );
}

export function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export class Scheduler {
  private readonly usage = new Map<string, { res: ResourceList; pods: number }>();
  private readonly accounted = new Map<string, { node: string; res: ResourceList }>();
  private readonly pending = new Set<string>();
  private readonly unschedulable = new Set<string>();
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private cursor = 0;

  constructor(private readonly store: Store) {
    this.queue = new WorkQueue(() => this.pass());
    this.events = new EventRecorder(store, 'default-scheduler');
  }

  start(): void {
    this.store.onChange((key, ev) => {
      if (key === 'pods') this.onPod(ev);
      else if (key === 'nodes') this.retryUnschedulable();
    });
    for (const pod of this.store.list('pods'))
      this.onPod({ type: 'ADDED', object: pod } as StoredEvent);
  }

  private retryUnschedulable(): void {
    for (const k of this.unschedulable) this.pending.add(k);
    this.unschedulable.clear();
    if (this.pending.size) this.queue.add('pass');
  }

  private onPod(ev: StoredEvent): void {
    const pod = ev.object as Pod;
    const uid = pod.metadata.uid ?? '';
    const key = nsName(pod);
    const gone = ev.type === 'DELETED' || isTerminal(pod);
    const acc = this.accounted.get(uid);
    if (acc && (gone || acc.node !== pod.spec?.nodeName)) {
      const u = this.usage.get(acc.node);
      if (u) {
        for (const [k, v] of Object.entries(acc.res)) u.res[k] = (u.res[k] ?? 0) - v;
        u.pods -= 1;
      }
      this.accounted.delete(uid);
      this.retryUnschedulable();
    }
    if (gone) {
      this.pending.delete(key);
      this.unschedulable.delete(key);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      this.pending.delete(key);
      this.unschedulable.delete(key);
      if (!this.accounted.has(uid)) {
        const res = podResources(pod, 'requests');
        this.accounted.set(uid, { node: nodeName, res });
        const u = this.usage.get(nodeName) ?? { res: {}, pods: 0 };
        for (const [k, v] of Object.entries(res)) u.res[k] = (u.res[k] ?? 0) + v;
        u.pods += 1;
        this.usage.set(nodeName, u);
      }
      return;
    }
    if (pod.metadata.deletionTimestamp) return;
    if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
    if (ev.type === 'ADDED' || !this.unschedulable.has(key)) {
      this.pending.add(key);
      this.queue.add('pass');
    }
  }

  private nodeViews(): NodeView[] {
    const views: NodeView[] = [];
    for (const node of this.store.list<Node>('nodes')) {
      const alloc = parseResourceList(node.status?.allocatable ?? node.status?.capacity);
      const u = this.usage.get(node.metadata.name ?? '');
      const free: ResourceList = { ...alloc };
      for (const [k, v] of Object.entries(u?.res ?? {})) free[k] = (free[k] ?? 0) - v;
      views.push({
        name: node.metadata.name ?? '',
        node,
        free,
        freePods: (alloc.pods ?? 110) - (u?.pods ?? 0),
      });
    }
    return views;
  }

  private pass(): void {
    if (this.pending.size === 0) return;
    const nodes = this.nodeViews();
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      const [ns, name] = splitKey(key);
      const pod = this.store.get<Pod>('pods', ns, name);
      if (!pod || pod.spec?.nodeName || isTerminal(pod) || pod.metadata.deletionTimestamp) continue;
      this.scheduleOne(pod, nodes, key);
    }
  }

  /**
   * JobSet exclusive placement (`alpha.jobset.sigs.k8s.io/exclusive-topology: <label>` on the
   * pod): the topology domains (values of that node label) the pod may go to. Its child Job's
   * domain once one of its pods is bound there; otherwise any domain no other child Job's pod
   * (in its namespace) holds. Undefined for a pod without the annotation.
   */
  private exclusiveDomains(pod: Pod): ((node: KubeObject) => boolean) | undefined {
    const topology = pod.metadata.annotations?.[EXCLUSIVE_TOPOLOGY];
    const jobKey = pod.metadata.labels?.[JOBSET_LABELS.jobKey];
    if (!topology || !jobKey) return undefined;
    const domainOf = (nodeName: string | undefined) =>
      nodeName
        ? this.store.get<Node>('nodes', '', nodeName)?.metadata.labels?.[topology]
        : undefined;
    let own: string | undefined;
    const taken = new Set<string>();
    // JobSet's pod (anti-)affinity terms name no namespaces: they apply within the pod's own.
    for (const other of this.store.list<Pod>('pods', pod.metadata.namespace)) {
      const otherKey = other.metadata.labels?.[JOBSET_LABELS.jobKey];
      if (!otherKey || !other.spec?.nodeName || isTerminal(other)) continue;
      const domain = domainOf(other.spec.nodeName);
      if (domain === undefined) continue;
      if (otherKey === jobKey) own = domain;
      else taken.add(domain);
    }
    return (node) => {
      const domain = node.metadata.labels?.[topology];
      if (domain === undefined) return false;
      return own !== undefined ? domain === own : !taken.has(domain);
    };
  }

  private scheduleOne(pod: Pod, nodes: NodeView[], key: string): void {
    const req = podResources(pod, 'requests');
    const reasons = new Map<string, number>();
    const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const exclusive = this.exclusiveDomains(pod);
    for (let i = 0; i < nodes.length; i += 1) {
      const view = nodes[(this.cursor + i) % nodes.length]!;
      const why =
        exclusive && !exclusive(view.node)
          ? "node(s) didn't match the JobSet's exclusive topology"
          : this.unfit(pod, view, req);
      if (why) {
        note(why);
        continue;
      }
      this.cursor = (this.cursor + i + 1) % nodes.length;
      for (const [k, v] of Object.entries(req)) view.free[k] = (view.free[k] ?? 0) - v;
      view.freePods -= 1;
      this.bind(pod, view.name);
      return;
    }
    const detail = [...reasons]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([r, n]) => `${n} ${r}`)
      .join(', ');
    const message = `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
    this.unschedulable.add(key);
    const updated = this.store.mutate<Pod>(
      'pods',
      pod.metadata.namespace,
      pod.metadata.name ?? '',
      (p) => {
        const status = (p.status ??= {});
        status.phase ??= 'Pending';
        status.conditions = setCondition(status.conditions, {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message,
        });
      },
    );
    if (updated && updated !== pod) this.events.record(pod, 'Warning', 'FailedScheduling', message);
  }

  private unfit(pod: Pod, view: NodeView, req: ResourceList): string | undefined {
    const node = view.node;
    if (!isNodeReady(node)) return 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }';
    if (
      node.spec?.unschedulable &&
      !tolerates(pod.spec?.tolerations, {
        key: 'node.kubernetes.io/unschedulable',
        effect: 'NoSchedule',
      })
    ) {
      return 'node(s) were unschedulable';
    }
    for (const t of node.spec?.taints ?? []) {
      if (
        (t.effect === 'NoSchedule' || t.effect === 'NoExecute') &&
        !tolerates(pod.spec?.tolerations, t)
      ) {
        return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
      }
    }
    if (!matchesNodeSelection(pod, node))
      return "node(s) didn't match Pod's node affinity/selector";
    if (view.freePods < 1) return 'Too many pods';
    for (const [k, v] of Object.entries(req)) {
      if (v > 0 && (view.free[k] ?? 0) < v - 1e-9) return `Insufficient ${k}`;
    }
    return undefined;
  }

  bind(pod: KubeObject, nodeName: string): void {
    const bound = this.store.mutate<Pod>(
      'pods',
      pod.metadata.namespace,
      pod.metadata.name ?? '',
      (p) => {
        if (!p.spec || p.spec.nodeName) return false;
        p.spec.nodeName = nodeName;
        const status = (p.status ??= {});
        status.phase ??= 'Pending';
        const now = nowIso();
        status.conditions = [
          ...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        ];
      },
    );
    if (bound)
      this.events.record(
        bound,
        'Normal',
        'Scheduled',
        `Successfully assigned ${nsName(pod)} to ${nodeName}`,
      );
  }

  close(): void {
    this.queue.close();
  }
}

export { nowIso };

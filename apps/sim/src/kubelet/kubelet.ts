// The simulated kubelet of every node: runs bound pods through Pending → Running →
// Succeeded/Failed on the scaled clock, writing container statuses, logs and files.
import { NO_RESULTS_MESSAGE } from '@roam/object-store';

import type { Container, ContainerStatus, Node, Pod, PodStatus } from '../api/models.js';
import type { KubeObject } from '../api/registry.js';
import { type Clock, EventRecorder, nowIso, setCondition } from '../controllers/runtime.js';
import type { Store, StoredEvent } from '../store/store.js';
import { type FileStore, parseFilesAnnotation } from './files.js';
import { withDownwardEnv } from './downward.js';
import { fetchDependencyInputs, fetchInputs, isDepsFetcher, isInputsFetcher } from './inputs.js';
import type { LogStore } from './logs.js';
import { isResultsUploader, type UploadOutcome, uploadResults } from './results.js';
import { type Plan, planContainer, type Step } from './script.js';

/** Pod annotations the simulated kubelet understands (documented in the README). */
export const ANNOTATIONS = {
  duration: 'sim.roam.dev/duration',
  exitCode: 'sim.roam.dev/exit-code',
  logs: 'sim.roam.dev/logs',
  oom: 'sim.roam.dev/oom',
  imagePullError: 'sim.roam.dev/image-pull-error',
  files: 'sim.roam.dev/files',
  startDelay: 'sim.roam.dev/start-delay',
} as const;

const DEFAULT_START_DELAY = 0.5;

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  cancels: Array<() => void>;
  restarts: Map<string, number>;
  /** Native sidecars started (init containers with restartPolicy Always), by init index. */
  sidecars: Map<number, Container>;
  /** Set once the main containers ended and the sidecars were told to stop. */
  stopping?: boolean;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}

/** Every main container has terminated: the pod's phase follows their exit codes. */
function completePod(status: PodStatus): void {
  const statuses = status.containerStatuses ?? [];
  status.phase = statuses.every((s) => s.state?.terminated?.exitCode === 0)
    ? 'Succeeded'
    : 'Failed';
  status.conditions = setCondition(status.conditions, {
    type: 'Ready',
    status: 'False',
    reason: 'PodCompleted',
  });
  status.conditions = setCondition(status.conditions, {
    type: 'ContainersReady',
    status: 'False',
    reason: 'PodCompleted',
  });
}

export class Kubelet {
  private readonly runs = new Map<string, PodRun>();
  private readonly events: EventRecorder;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logs: LogStore,
    private readonly files: FileStore,
  ) {
    this.events = new EventRecorder(store, 'kubelet');
  }

  start(): void {
    this.store.onChange((key, ev) => {
      if (key === 'pods') this.onPod(ev);
    });
    for (const pod of this.store.list('pods')) this.onPodObject(pod);
  }

  private onPod(ev: StoredEvent): void {
    if (ev.type === 'DELETED') {
      this.stop(ev.object.metadata.uid ?? '');
      this.logs.forget(ev.object.metadata.uid ?? '');
      return;
    }
    this.onPodObject(ev.object);
  }

  private onPodObject(obj: KubeObject): void {
    const pod = obj as Pod;
    const uid = pod.metadata.uid ?? '';
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.stop(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      this.terminate(pod);
      return;
    }
    if (!pod.spec?.nodeName || this.runs.has(uid)) return;
    if (!this.store.get('nodes', undefined, pod.spec.nodeName)) return;
    if (
      this.store.get<Node>('nodes', undefined, pod.spec.nodeName)?.metadata.labels?.type ===
      'virtual-kubelet'
    )
      return; // a virtual node's pods are run by its provider (e.g. RunPod offload), as with virtual-kubelet
    this.launch(pod);
  }

  private stop(uid: string): void {
    const run = this.runs.get(uid);
    if (!run) return;
    for (const c of run.cancels) c();
    this.runs.delete(uid);
  }

  /** A pod being deleted is killed: running containers end with 137. */
  private terminate(pod: Pod): void {
    this.stop(pod.metadata.uid ?? '');
    for (const c of pod.spec?.containers ?? []) this.logs.finish(pod.metadata.uid ?? '', c.name);
    this.mutate(pod.metadata.namespace, pod.metadata.name ?? '', (p, status) => {
      if (status.phase === 'Succeeded' || status.phase === 'Failed') return false;
      const now = nowIso();
      status.phase = 'Failed';
      status.containerStatuses = (p.spec?.containers ?? []).map((c): ContainerStatus => {
        const prev = (status.containerStatuses ?? []).find((s) => s.name === c.name);
        const term = prev?.state?.terminated ?? {
          exitCode: 137,
          reason: 'Error',
          startedAt: prev?.state?.running?.startedAt ?? now,
          finishedAt: now,
        };
        return {
          ...(prev ?? { name: c.name, image: c.image, imageID: '', restartCount: 0 }),
          ready: false,
          started: false,
          state: { terminated: term },
        };
      });
      status.conditions = setCondition(status.conditions, {
        type: 'Ready',
        status: 'False',
        reason: 'PodCompleted',
      });
    });
  }

  /** Mutates a pod's status (created if missing); `fn` may return false to skip the write. */
  private mutate(
    namespace: string | undefined,
    name: string,
    fn: (pod: Pod, status: PodStatus) => void | false,
  ): Pod | undefined {
    return this.store.mutate<Pod>('pods', namespace, name, (p) => fn(p, (p.status ??= {})));
  }

  private launch(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const run: PodRun = {
      uid,
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      cancels: [],
      restarts: new Map(),
      sidecars: new Map(),
    };
    this.runs.set(uid, run);
    const ann = pod.metadata.annotations ?? {};
    const startDelay = seconds(ann[ANNOTATIONS.startDelay]) ?? DEFAULT_START_DELAY;
    const pullError = ann[ANNOTATIONS.imagePullError];
    if (pullError !== undefined && pullError !== 'false') {
      run.cancels.push(this.clock.after(startDelay, () => this.imagePullFailure(run, pullError)));
      return;
    }
    run.cancels.push(this.clock.after(startDelay, () => this.runInit(run, 0)));
  }

  private current(run: PodRun): Pod | undefined {
    const pod = this.store.get<Pod>('pods', run.namespace, run.name);
    return pod && pod.metadata.uid === run.uid ? pod : undefined;
  }

  private imagePullFailure(run: PodRun, detail: string): void {
    const pod = this.current(run);
    if (!pod) return;
    const message = detail && detail !== 'true' ? detail : 'simulated image pull failure';
    const setWaiting = (reason: string) =>
      this.mutate(run.namespace, run.name, (p, status) => {
        status.containerStatuses = (p.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: {
            waiting: {
              reason,
              message:
                reason === 'ErrImagePull'
                  ? `rpc error: code = Unknown desc = failed to pull and unpack image "${c.image ?? ''}": ${message}`
                  : `Back-off pulling image "${c.image ?? ''}"`,
            },
          },
        }));
        status.conditions = setCondition(status.conditions, {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: 'containers with unready status',
        });
      });
    setWaiting('ErrImagePull');
    this.events.record(pod, 'Warning', 'Failed', `Failed to pull image: ${message}`);
    run.cancels.push(this.clock.after(1, () => setWaiting('ImagePullBackOff')));
  }

  private planFor(pod: Pod, c: Container): Plan {
    const ann = pod.metadata.annotations ?? {};
    const env = Object.fromEntries(
      (withDownwardEnv(c, pod).env ?? []).flatMap((e) =>
        e.value !== undefined ? [[e.name, e.value] as const] : [],
      ),
    );
    let plan = planContainer(c.command, c.args, c.image ?? '', env);
    const duration = seconds(ann[ANNOTATIONS.duration]);
    const extraLogs = ann[ANNOTATIONS.logs];
    if (duration !== undefined)
      plan = {
        exitCode: plan.exitCode,
        steps: [
          ...plan.steps.filter((s) => s.kind !== 'sleep'),
          { kind: 'sleep', seconds: duration },
        ],
      };
    if (extraLogs)
      plan = {
        ...plan,
        steps: [
          ...extraLogs.split('\n').map((text): Step => ({ kind: 'log', text })),
          ...plan.steps,
        ],
      };
    const exit = ann[ANNOTATIONS.exitCode];
    if (exit !== undefined && Number.isInteger(Number(exit)))
      plan = { ...plan, exitCode: Number(exit) };
    return plan;
  }

  private runInit(run: PodRun, index: number): void {
    const pod = this.current(run);
    if (!pod) return;
    const inits = pod.spec?.initContainers ?? [];
    const declared = inits[index];
    if (!declared) {
      this.startMain(run);
      return;
    }
    const c = withDownwardEnv(declared, pod);
    const now = nowIso();
    const sidecar = c.restartPolicy === 'Always';
    if (sidecar) run.sidecars.set(index, c);
    this.mutate(run.namespace, run.name, (p, status) => {
      status.hostIP = this.hostIp(p);
      status.startTime ??= now;
      status.initContainerStatuses = inits.map((ic, i) => ({
        name: ic.name,
        image: ic.image,
        imageID: '',
        // Native sidecars run (and are ready) beside the rest; other init containers ran to the end.
        ready: run.sidecars.has(i),
        restartCount: 0,
        ...(run.sidecars.has(i) ? { started: true } : {}),
        state:
          i < index
            ? (status.initContainerStatuses?.[i]?.state ?? {})
            : i === index
              ? { running: { startedAt: now } }
              : { waiting: { reason: 'PodInitializing' } },
      }));
    });
    if (sidecar) {
      // The next init container starts as soon as a sidecar has started; the sidecar is
      // stopped once the main containers have ended.
      this.logs.started(run.uid, c.name);
      this.runInit(run, index + 1);
      return;
    }
    const finished = (exitCode: number, reason: string) => {
      this.mutate(run.namespace, run.name, (p, status) => {
        const st = status.initContainerStatuses?.[index];
        if (st)
          st.state = { terminated: { exitCode, reason, startedAt: now, finishedAt: nowIso() } };
        if (exitCode !== 0 && p.spec?.restartPolicy === 'Never') {
          status.phase = 'Failed';
          status.conditions = setCondition(status.conditions, {
            type: 'Initialized',
            status: 'False',
            reason: 'ContainersNotInitialized',
          });
        }
      });
      if (exitCode === 0) this.runInit(run, index + 1);
      else if (pod.spec?.restartPolicy !== 'Never')
        run.cancels.push(this.clock.after(1, () => this.runInit(run, index)));
    };
    if (isInputsFetcher(c)) this.fetchInputs(run, pod, c, finished);
    else if (isDepsFetcher(c)) this.fetchDependencyInputs(run, pod, c, finished);
    else this.execute(run, pod, c, finished);
  }

  /** roam's inputs fetcher (kubelet/inputs.ts): the archive's files land in the pod's store. */
  private fetchInputs(
    run: PodRun,
    pod: Pod,
    c: Container,
    done: (exitCode: number, reason: string) => void,
  ): void {
    this.logs.started(run.uid, c.name);
    const readFile = (path: string) => {
      const onClaim = this.files.claimOf(pod, c.name, path);
      return onClaim
        ? this.files.readClaim(run.namespace, onClaim)
        : this.files.podFiles(run.namespace, run.name).get(path);
    };
    void fetchInputs(c, readFile, (path, content) =>
      this.files.write(pod, c.name, path, content, false),
    ).then(({ exitCode, lines }) => {
      for (const line of lines) this.logs.append(run.uid, c.name, line);
      this.logs.finish(run.uid, c.name);
      if (this.current(run)) done(exitCode, exitCode === 0 ? 'Completed' : 'Error');
    });
  }

  /** roam's dependencies fetcher (kubelet/inputs.ts): each listed result lands in the store. */
  private fetchDependencyInputs(
    run: PodRun,
    pod: Pod,
    c: Container,
    done: (exitCode: number, reason: string) => void,
  ): void {
    this.logs.started(run.uid, c.name);
    void fetchDependencyInputs(c, (path, content) =>
      this.files.write(pod, c.name, path, content, false),
    ).then(({ exitCode, lines }) => {
      for (const line of lines) this.logs.append(run.uid, c.name, line);
      this.logs.finish(run.uid, c.name);
      if (this.current(run)) done(exitCode, exitCode === 0 ? 'Completed' : 'Error');
    });
  }

  private hostIp(pod: Pod): string {
    const node = this.store.get<Node>('nodes', undefined, pod.spec?.nodeName ?? '');
    return (
      (node?.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1'
    );
  }

  private startMain(run: PodRun): void {
    const pod = this.current(run);
    if (!pod) return;
    const now = nowIso();
    const n = Number.parseInt(run.uid.slice(0, 4), 16);
    this.mutate(run.namespace, run.name, (p, status) => {
      status.phase = 'Running';
      status.startTime ??= now;
      status.hostIP = this.hostIp(p);
      status.hostIPs = [{ ip: status.hostIP }];
      status.podIP = `10.244.${(n >> 8) & 255}.${n & 255}`;
      status.podIPs = [{ ip: status.podIP }];
      status.containerStatuses = (p.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: `sim://${c.image ?? ''}`,
        containerID: `sim://${run.uid.slice(0, 8)}-${c.name}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      }));
      let conds = status.conditions;
      for (const type of ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'])
        conds = setCondition(conds, { type, status: 'True' });
      status.conditions = conds;
    });
    for (const c of pod.spec?.containers ?? []) this.runContainer(run, c);
  }

  private runContainer(run: PodRun, c: Container): void {
    const pod = this.current(run);
    if (!pod) return;
    const startedAt = nowIso();
    this.execute(run, pod, c, (exitCode, reason) =>
      this.containerExited(run, c, exitCode, reason, startedAt),
    );
  }

  /** Walks a plan's steps on the clock; `done` gets the exit code and termination reason. */
  private execute(
    run: PodRun,
    pod: Pod,
    c: Container,
    done: (exitCode: number, reason: string) => void,
  ): void {
    const plan = this.planFor(pod, c);
    const ann = pod.metadata.annotations ?? {};
    this.logs.started(run.uid, c.name);
    let i = 0;
    const step = () => {
      while (i < plan.steps.length) {
        const s = plan.steps[i++]!;
        if (s.kind === 'sleep') {
          if (s.seconds > 0) {
            run.cancels.push(this.clock.after(s.seconds, step));
            return;
          }
        } else if (s.kind === 'log') this.logs.append(run.uid, c.name, s.text);
        else this.files.write(pod, c.name, s.path, s.content, s.append);
      }
      const oom = ann[ANNOTATIONS.oom] !== undefined && ann[ANNOTATIONS.oom] !== 'false';
      const filesJson = ann[ANNOTATIONS.files];
      if (!oom && plan.exitCode === 0 && filesJson) {
        const files = parseFilesAnnotation(filesJson);
        if (!files)
          this.logs.append(
            run.uid,
            c.name,
            `[sim] ${ANNOTATIONS.files} is not a JSON object of path → content`,
          );
        for (const [path, content] of Object.entries(files ?? {}))
          this.files.write(pod, c.name, path, content, false);
      }
      this.logs.finish(run.uid, c.name);
      if (oom) done(137, 'OOMKilled');
      else done(plan.exitCode, plan.exitCode === 0 ? 'Completed' : 'Error');
    };
    step();
  }

  private containerExited(
    run: PodRun,
    c: Container,
    exitCode: number,
    reason: string,
    startedAt: string,
  ): void {
    const pod = this.current(run);
    if (!pod) return;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    const terminated = {
      exitCode,
      reason,
      startedAt,
      finishedAt: nowIso(),
      containerID: `sim://${run.uid.slice(0, 8)}-${c.name}`,
    };
    let sidecarsToStop = false;
    if (reason === 'OOMKilled')
      this.events.record(
        pod,
        'Warning',
        'OOMKilling',
        `Container ${c.name} was OOM-killed (simulated)`,
      );
    this.mutate(run.namespace, run.name, (_p, status) => {
      const statuses = status.containerStatuses ?? [];
      const st = statuses.find((s) => s.name === c.name);
      if (!st) return;
      st.ready = false;
      if (restart) {
        st.lastState = { terminated };
        st.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off restarting failed container ${c.name}`,
          },
        };
        st.started = false;
      } else {
        st.state = { terminated };
        st.started = false;
      }
      const allDone = statuses.every((s) => s.state?.terminated);
      if (allDone && run.sidecars.size > 0) {
        // The pod ends once its sidecars have stopped (the uploader's work happens here).
        sidecarsToStop = true;
      } else if (allDone) {
        completePod(status);
      } else {
        status.conditions = setCondition(status.conditions, {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${c.name}]`,
        });
      }
    });
    if (sidecarsToStop) this.stopSidecars(run);
    if (!restart) return;
    const count = (run.restarts.get(c.name) ?? 0) + 1;
    run.restarts.set(c.name, count);
    const backoff = Math.min(10 * 2 ** (count - 1), 300) / 10;
    run.cancels.push(
      this.clock.after(backoff, () => {
        const startedAgain = nowIso();
        const updated = this.mutate(run.namespace, run.name, (_p, status) => {
          const statuses = status.containerStatuses ?? [];
          const st = statuses.find((s) => s.name === c.name);
          if (!st) return false;
          st.restartCount = count;
          st.state = { running: { startedAt: startedAgain } };
          st.ready = true;
          st.started = true;
          if (statuses.every((s) => s.ready)) {
            status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'True' });
            status.conditions = setCondition(status.conditions, {
              type: 'ContainersReady',
              status: 'True',
            });
          }
        });
        if (updated) this.runContainer(run, c);
      }),
    );
  }

  /**
   * SIGTERM to the native sidecars once the main containers have ended: roam's results
   * uploader packs and PUTs the results directory; any other sidecar exits 0. Then the pod's
   * phase follows its main containers, as on a cluster.
   */
  private stopSidecars(run: PodRun): void {
    if (run.stopping) return;
    run.stopping = true;
    const pod = this.current(run);
    if (!pod) return;
    const outcomes = [...run.sidecars].map(async ([index, c]) => {
      const outcome: UploadOutcome = isResultsUploader(c)
        ? await uploadResults(c, this.files.podFiles(run.namespace, run.name))
        : { exitCode: 0, lines: [] };
      for (const line of outcome.lines) this.logs.append(run.uid, c.name, line);
      this.logs.finish(run.uid, c.name);
      // The uploader's script writes this to its termination log when it uploads nothing.
      const message = outcome.empty ? NO_RESULTS_MESSAGE : undefined;
      return { index, exitCode: outcome.exitCode, message };
    });
    void Promise.all(outcomes).then((ended) => {
      if (!this.current(run)) return;
      this.mutate(run.namespace, run.name, (_p, status) => {
        if (status.phase === 'Succeeded' || status.phase === 'Failed') return false;
        const finishedAt = nowIso();
        for (const { index, exitCode, message } of ended) {
          const st = status.initContainerStatuses?.[index];
          if (!st) continue;
          st.ready = false;
          st.started = false;
          st.state = {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? 'Completed' : 'Error',
              startedAt: st.state?.running?.startedAt ?? finishedAt,
              finishedAt,
              ...(message ? { message } : {}),
            },
          };
        }
        completePod(status);
      });
    });
  }

  close(): void {
    for (const uid of [...this.runs.keys()]) this.stop(uid);
  }
}

import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  type NodeJson,
  type NodeState,
  nodeStatesFromKubernetes,
  type PodJson,
} from '@roam/domain';
import { Kube, type KubernetesObject, UNFINISHED_PODS } from '@roam/kube';
import { LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import type { Logger } from 'pino';

type NodeObject = KubernetesObject & NodeJson;
type PodObject = KubernetesObject & PodJson;

const REFRESH_MS = 10_000;
/** How long a submit waits for the very first load before deciding without nodes. */
const FIRST_LOAD_WAIT_MS = 3_000;

/**
 * A read-only picture of the cluster's nodes for the request path (submit-time "can this ever
 * run?" and explain), listed every ~10 s so a request never waits on Kubernetes. Stale by up
 * to one refresh, which is fine for both uses: node sizes change rarely, and explain says what
 * the next cycle would see, not a promise. When Kubernetes cannot be read the last picture
 * stays; with none at all, callers get no nodes and `neverFits` then says nothing about nodes.
 */
@Injectable()
export class NodeCapacityCache implements OnApplicationBootstrap, OnModuleDestroy {
  private nodes: NodeState[] | undefined;
  private loading: Promise<void> | undefined;
  private readonly loop: Loop;

  constructor(
    private readonly kube: Kube,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.loop = new Loop({
      name: 'node capacity refresh',
      intervalMs: REFRESH_MS,
      runAtStart: true,
      logger,
      pass: () => this.refresh(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** The latest node picture; waits (briefly) only for the first load. */
  async current(): Promise<readonly NodeState[]> {
    if (this.nodes) return this.nodes;
    // A failed load is the loop's to log and retry; here it only means "no nodes yet".
    const first = (this.loading ?? this.refresh()).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FIRST_LOAD_WAIT_MS);
    });
    await Promise.race([first, timeout]);
    clearTimeout(timer);
    return this.nodes ?? [];
  }

  /** Lists nodes and pods now, or joins the listing under way; the last picture stays on failure. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const nodes: NodeObject[] = [];
    for await (const node of this.kube.listAll<NodeObject>('v1', 'Node')) nodes.push(node);
    const pods: PodObject[] = [];
    // Finished pods hold no room (and are most of a busy cluster's pods).
    for await (const pod of this.kube.listAll<PodObject>('v1', 'Pod', {
      fieldSelector: UNFINISHED_PODS,
    }))
      pods.push(pod);
    this.nodes = nodeStatesFromKubernetes(nodes, pods);
  }
}

import {
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type ObjectCache,
  type Watch,
} from '@kubernetes/client-node';

import { JsonWatch, type WatchCallback } from './watch.js';

/** What an informer's list and its watches both select by. */
export interface InformerSelectors {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

/** Bounds of the delay before an informer that failed starts again (doubling in between). */
export const INFORMER_RESTART_MS = { initial: 250, max: 5_000 } as const;

/**
 * A watch whose start never rejects: a failure to connect is reported through `done`, as a
 * dropped watch is. The client's ListWatch awaits `watch()` inside its own done handler, where a
 * rejection would be unhandled and leave the informer stopped for good.
 */
class ReportingWatch extends JsonWatch {
  constructor(
    config: KubeConfig,
    agent: string,
    private readonly onWatch: () => void,
  ) {
    super(config, agent);
  }

  override async watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    this.onWatch();
    try {
      return await super.watch(path, params, callback, done);
    } catch (error) {
      queueMicrotask(() => done(error));
      return new AbortController();
    }
  }
}

/** An informer that also says whether its cache has ever been filled by a successful list. */
export type ResilientInformer<T extends KubernetesObject> = Informer<T> &
  ObjectCache<T> & {
    /**
     * True once a list has succeeded and its objects are in the cache. `start()` resolves even
     * when the first list fails (the informer retries on its own), so it proves nothing: an
     * empty cache before this is "not known yet", never "no objects".
     */
    hasSynced(): boolean;
  };

/**
 * A list-then-watch cache that never gives up. The client's ListWatch re-watches after a watch
 * ends cleanly and re-lists after a 410, but after any other error (the connection reset, the
 * API server restarting, a failed list) it reports `error` and stops: the cache then stays as
 * it was, silently, and whoever reads it acts on a stale picture forever. This one starts again
 * after a backoff (re-watching from the last resourceVersion, re-listing when that has expired)
 * until `stop()`.
 */
export function resilientInformer<T extends KubernetesObject>(
  config: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  selectors: InformerSelectors = {},
  agent = 'roam',
): ResilientInformer<T> {
  let synced = false;
  // ListWatch opens its first watch only after a list succeeded and its items were applied;
  // every later watch follows that one. It calls only `watch()` of the Watch it is given.
  const watch = new ReportingWatch(config, agent, () => (synced = true));
  const informer = new ListWatch<T>(
    path,
    watch as unknown as Watch,
    list,
    false,
    selectors.labelSelector,
    selectors.fieldSelector,
  );
  let stopped = true;
  let delayMs = 0;
  let failedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = informer.start.bind(informer);
  const stop = informer.stop.bind(informer);

  const restartLater = () => {
    if (stopped || timer) return;
    const now = Date.now();
    // Failures in a row back off; a failure after a long healthy stretch starts over.
    const streak = now - failedAt < INFORMER_RESTART_MS.max * 4;
    failedAt = now;
    delayMs = streak
      ? Math.min(Math.max(delayMs * 2, INFORMER_RESTART_MS.initial), INFORMER_RESTART_MS.max)
      : INFORMER_RESTART_MS.initial;
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) start().catch(restartLater);
    }, delayMs);
    timer.unref();
  };
  informer.on('error', restartLater);

  informer.start = async () => {
    stopped = false;
    await start();
  };
  informer.stop = async () => {
    stopped = true;
    clearTimeout(timer);
    timer = undefined;
    await stop();
  };
  return Object.assign(informer, { hasSynced: () => synced });
}

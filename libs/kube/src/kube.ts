import http from 'node:http';
import https from 'node:https';
import { type Writable } from 'node:stream';

import {
  KubeConfig,
  KubernetesObjectApi,
  Log,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import { isAlreadyExists, isNotFound, KubeError, toKubeError } from './errors.js';
import { type InformerSelectors, type ResilientInformer, resilientInformer } from './informer.js';
import {
  DEFAULT_KUBE_CLIENT,
  type KubeClientOptions,
  KubeTimeoutError,
  throttled,
  TokenBucket,
} from './throttle.js';
import { JsonWatch } from './watch.js';

export type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
export type { InformerSelectors, ResilientInformer } from './informer.js';

/** Identifies one object: enough for get/patch/delete. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListPage<T> {
  items: T[];
  continue?: string;
  resourceVersion?: string;
}

export interface LogOptions {
  container?: string;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
}

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T };

/**
 * client-node 2.0 builds a new undici Agent for every request, so no connection is ever
 * reused: each call pays a TCP (and TLS) handshake, which capped Job creation near 200/s.
 * One dispatcher per cluster fixes that. Its TLS material is fixed by the kubeconfig; tokens
 * travel in headers, which are still set (and refreshed) per request.
 */
function poolDispatchers(kc: KubeConfig): KubeConfig {
  // createDispatcher is private in client-node's typings, public at run time.
  const target = kc as unknown as {
    createDispatcher(cluster: { server?: string } | null, options: unknown): unknown;
  };
  const create = target.createDispatcher.bind(kc);
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = cluster?.server ?? '';
    if (!dispatchers.has(key)) dispatchers.set(key, create(cluster, options));
    return dispatchers.get(key);
  };
  return kc;
}

/**
 * Object calls go through `Kube.request` with the agent client-node builds once per cluster;
 * it builds it without keep-alive, so every call would open (and close) a connection of its
 * own. Kept alive, calls reuse the agent's connections, as watches reuse the dispatcher's.
 */
function keepAlive(kc: KubeConfig): KubeConfig {
  // createAgent is private in client-node's typings, public at run time.
  const target = kc as unknown as {
    createAgent(cluster: unknown, options: Record<string, unknown>): unknown;
  };
  const create = target.createAgent.bind(kc);
  target.createAgent = (cluster, options) => create(cluster, { ...options, keepAlive: true });
  return kc;
}

/**
 * Every request (API calls, watches, logs all pass through applySecurityAuthentication) says
 * which roam app made it, in the User-Agent, as kubectl does: audit logs and the simulator's
 * RBAC check tell the workers apart by it.
 */
function identify(kc: KubeConfig, agent: string): KubeConfig {
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    context.setHeaderParam('User-Agent', agent);
  };
  return kc;
}

/** Where to find the cluster: an explicit kubeconfig file, `KUBECONFIG`, in-cluster, or ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string, agent = 'roam'): KubeConfig {
  const kc = identify(keepAlive(poolDispatchers(new KubeConfig())), agent);
  const path = kubeconfigPath ?? process.env.KUBECONFIG;
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

const ref = (object: ObjectRef) => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  metadata: { name: object.name, ...(object.namespace ? { namespace: object.namespace } : {}) },
});

async function call<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { name?: unknown })?.name === 'TimeoutError')
      throw new KubeTimeoutError(`no answer from the API server within ${timeoutMs} ms`);
    throw toKubeError(error);
  }
}

/** What one `traced` call needs from its client: the bucket, the retry budget, the timeout. */
interface CallPolicy {
  bucket: TokenBucket;
  options: KubeClientOptions;
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** What a client span says about the call: verb, kind and, when known, namespace and name. */
interface CallTarget {
  verb: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

/**
 * `call` inside a CLIENT span (a no-op until the app installs a tracer provider). NotFound and
 * AlreadyExists are answers callers act on (adopt, "already gone"), so they leave the span OK.
 */
function traced<T>(
  server: string,
  target: CallTarget,
  policy: CallPolicy,
  work: () => Promise<T>,
): Promise<T> {
  const attributes: Record<string, string> = { 'server.address': server, 'k8s.verb': target.verb };
  if (target.kind) attributes['k8s.object.kind'] = target.kind;
  if (target.namespace) attributes['k8s.namespace.name'] = target.namespace;
  if (target.name) attributes['k8s.object.name'] = target.name;
  const span = trace
    .getTracer('roam')
    .startSpan(`kube ${target.verb} ${target.kind ?? ''}`.trimEnd(), {
      kind: SpanKind.CLIENT,
      attributes,
    });
  return context.with(trace.setSpan(context.active(), span), async () => {
    try {
      return await throttled(
        policy.bucket,
        policy.options.retries,
        () => call(work, policy.options.requestTimeoutMs),
        (error, delayMs) => {
          span.addEvent('retry', { 'retry.delay_ms': Math.round(delayMs) });
          policy.onRetry?.(error, delayMs);
        },
      );
    } catch (error) {
      if (error instanceof KubeError) span.setAttribute('http.response.status_code', error.status);
      if (!isNotFound(error) && !isAlreadyExists(error)) {
        if (error instanceof Error) span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      }
      throw error;
    } finally {
      span.end();
    }
  });
}

const isRef = (object: KubernetesObject | ObjectRef): object is ObjectRef =>
  typeof (object as ObjectRef).name === 'string';

const targetOf = (verb: string, object: KubernetesObject | ObjectRef): CallTarget =>
  isRef(object)
    ? { verb, kind: object.kind, namespace: object.namespace, name: object.name }
    : {
        verb,
        kind: object.kind,
        namespace: object.metadata?.namespace,
        name: object.metadata?.name,
      };

/**
 * The one door to Kubernetes: every roam worker goes through this
 * class, nothing else imports the client. Errors are `KubeError`s with the API's reason.
 * Names are derived from roam ids, so `createOrAdopt` turns a second create (after a crash or
 * a redelivered command) into adopting the object that is already there.
 */
export class Kube {
  private readonly objects: KubernetesObjectApi;
  private readonly policy: CallPolicy;
  readonly options: KubeClientOptions;

  constructor(
    readonly config: KubeConfig,
    private readonly agent = 'roam',
    options: Partial<KubeClientOptions> = {},
  ) {
    this.options = { ...DEFAULT_KUBE_CLIENT, ...options };
    this.policy = {
      bucket: new TokenBucket(this.options.qps, this.options.burst),
      options: this.options,
    };
    const timeoutMs = this.options.requestTimeoutMs;
    this.objects = KubernetesObjectApi.makeApiClient(config);
    // makeApiClient adds a middleware that sets client-node's own User-Agent after
    // authentication: wrap each one so this app's name is set last. (Middlewares return
    // client-node's own observables, so they are wrapped, not replaced.)
    type Context = {
      setHeaderParam(key: string, value: string): void;
      setSignal(signal: AbortSignal): void;
    };
    type Middleware = { pre(context: Context): unknown; post(response: unknown): unknown };
    const configuration = (
      this.objects as unknown as { configuration: { middleware: Middleware[] } }
    ).configuration;
    configuration.middleware = configuration.middleware.map((middleware) => ({
      pre: (context: Context) => {
        const next = middleware.pre(context);
        context.setHeaderParam('User-Agent', agent);
        // Bounds the request and the reading of its body (undici aborts both).
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return next;
      },
      post: (response: unknown) => middleware.post(response),
    }));
  }

  /** `agent` names the caller in every request's User-Agent (`roam-scheduler`, …). */
  static fromKubeconfig(
    path?: string,
    agent = 'roam',
    options: Partial<KubeClientOptions> = {},
  ): Kube {
    return new Kube(loadKubeConfig(path, agent), agent, options);
  }

  /** Reports each retry of a transient failure (the app logs it). */
  onRetry(listener: (error: unknown, delayMs: number) => void): void {
    this.policy.onRetry = listener;
  }

  private traced<T>(target: CallTarget, work: () => Promise<T>): Promise<T> {
    return traced(this.server, target, this.policy, work);
  }

  /**
   * Merge-patches a pod's `status` subresource (the offload worker keeps its virtual pods
   * Running this way). client-node's object API has no subresource call, so this is one
   * plain request with the kubeconfig's TLS and credentials.
   */
  async patchPodStatus(namespace: string, name: string, status: unknown): Promise<void> {
    await this.traced({ verb: 'patch', kind: 'Pod', namespace, name }, () =>
      this.request('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, {
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({ status }),
      }),
    );
  }

  /**
   * Merge-patches the `status` subresource of a custom object at `path` (its object URL, e.g.
   * `/apis/kueue.x-k8s.io/v1beta1/namespaces/ns/workloads/wl`). With `resourceVersion` the
   * patch is refused (409) when the object changed since it was read.
   */
  async patchObjectStatus(
    path: string,
    target: { kind: string; namespace?: string; name: string },
    status: unknown,
    resourceVersion?: string,
  ): Promise<void> {
    await this.traced({ verb: 'patch', ...target }, () =>
      this.request('PATCH', `${path}/status`, {
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({
          ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
          status,
        }),
      }),
    );
  }

  /**
   * GETs an API path no typed call covers (an aggregated API such as Kueue's visibility API),
   * parsed as JSON; undefined when it is not found.
   */
  async getPath<T>(path: string, kind = 'Raw'): Promise<T | undefined> {
    try {
      const text = await this.traced({ verb: 'get', kind }, () => this.request('GET', path));
      return JSON.parse(text) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * One plain request with the kubeconfig's TLS and credentials, its answer read whole. It
   * fails with a `KubeTimeoutError` when the whole exchange exceeds `requestTimeoutMs` or the
   * connection goes quiet for `idleTimeoutMs`, and with the socket's error when the server drops
   * the connection mid-answer: a caller never waits on a stream that will not end.
   */
  private async request(
    method: string,
    path: string,
    options: { contentType?: string; body?: string; idleTimeoutMs?: number } = {},
  ): Promise<string> {
    const url = new URL(`${this.server.replace(/\/+$/, '')}${path}`);
    const headers: Record<string, string> = { 'user-agent': this.agent };
    if (options.contentType) headers['content-type'] = options.contentType;
    const requestOptions: https.RequestOptions = { method, headers };
    await this.config.applyToHTTPSOptions(requestOptions);
    const timeoutMs = this.options.requestTimeoutMs;
    const idleMs = options.idleTimeoutMs ?? timeoutMs;
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        request.destroy();
        reject(error);
      };
      const overall = setTimeout(
        () =>
          fail(new KubeTimeoutError(`${method} ${path}: no complete answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const request = (url.protocol === 'https:' ? https : http).request(
        url,
        requestOptions,
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          // 'close' before 'end': the server dropped the connection mid-answer.
          response.on('close', () => {
            if (!response.complete)
              fail(
                // A reset connection, as the socket's own error would say: retried (isTransient).
                Object.assign(
                  new Error(`${method} ${path}: the connection closed before the answer ended`),
                  { code: 'ECONNRESET' },
                ),
              );
          });
          response.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(overall);
            const text = Buffer.concat(chunks).toString('utf8');
            if ((response.statusCode ?? 500) < 300) return resolve(text);
            const error = toKubeError({
              code: response.statusCode ?? 500,
              body: text,
              headers: { 'retry-after': String(response.headers['retry-after'] ?? '') },
            });
            reject(error instanceof Error ? error : new Error(String(error)));
          });
        },
      );
      request.on('error', fail);
      // Socket inactivity in either direction, headers or body alike.
      request.setTimeout(idleMs, () =>
        fail(new KubeTimeoutError(`${method} ${path}: nothing received for ${idleMs} ms`)),
      );
      request.end(options.body);
    });
  }

  /** The API server's base URL, for logs and health. */
  get server(): string {
    return this.config.getCurrentCluster()?.server ?? 'unknown';
  }

  /**
   * The object's API path (`/apis/batch/v1/namespaces/ns/jobs[/name]`), from client-node's
   * discovery of the kind's resource (cached per API version after the first call).
   */
  private pathOf(
    object: KubernetesObject,
    action: 'create' | 'read' | 'list' | 'patch' | 'delete',
  ): Promise<string> {
    // specUriPath is protected in client-node's typings, public at run time.
    const objects = this.objects as unknown as {
      specUriPath(spec: KubernetesObject, action: string): Promise<string>;
    };
    return objects.specUriPath(object, action);
  }

  /**
   * One object call with its answer as plain JSON. client-node's object API serialises the
   * request and deserialises the answer through its generated models (a walk of every field,
   * dates turned into `Date`s) over fetch and web streams: that was most of the scheduler's
   * cost of creating a Job. Objects from watches were always plain JSON, so callers already
   * read dates as strings.
   */
  private async json<T>(
    method: string,
    path: string,
    query: Record<string, string | number | undefined> = {},
    body?: { contentType: string; value: unknown },
  ): Promise<T> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) search.set(key, String(value));
    const text = await this.request(
      method,
      search.toString() ? `${path}?${search.toString()}` : path,
      body ? { contentType: body.contentType, body: JSON.stringify(body.value) } : {},
    );
    return JSON.parse(text) as T;
  }

  create<T extends KubernetesObject>(object: T): Promise<T> {
    return this.traced(
      targetOf('create', object),
      async () => JSON.parse(await this.post(object)) as T,
    );
  }

  /** POSTs the object to its collection; the answer (the created object) as text. */
  private async post(object: KubernetesObject): Promise<string> {
    return this.request('POST', await this.pathOf(object, 'create'), {
      contentType: 'application/json',
      body: JSON.stringify(object),
    });
  }

  /**
   * Creates the object unless one of that name exists; true when this call created it. The
   * answer is not read: a caller that needs the object back (its uid) uses `createOrAdopt`.
   * Skipping it: 0.43–0.46 → 0.39–0.43 ms of the client's CPU per Job created (a 1 kB command,
   * against the simulator).
   */
  async createIfAbsent(object: KubernetesObject): Promise<boolean> {
    try {
      await this.traced(targetOf('create', object), () => this.post(object));
      return true;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      return false;
    }
  }

  /** Creates, or returns the existing object of that name. */
  async createOrAdopt<T extends KubernetesObject>(
    object: T,
  ): Promise<{ object: T; created: boolean }> {
    try {
      return { object: await this.create(object), created: true };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const existing = await this.get<T>({
        apiVersion: object.apiVersion!,
        kind: object.kind!,
        name: object.metadata!.name!,
        namespace: object.metadata?.namespace,
      });
      if (!existing) throw error;
      return { object: existing, created: false };
    }
  }

  /** Creates the object, or merge-patches the existing one to match it. */
  async upsert<T extends KubernetesObject>(object: T): Promise<'created' | 'updated'> {
    if (await this.createIfAbsent(object)) return 'created';
    await this.traced(targetOf('patch', object), () => this.mergePatchObject(object));
    return 'updated';
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubernetesObject>(object: ObjectRef): Promise<T | undefined> {
    try {
      return await this.traced(targetOf('get', object), async () =>
        this.json<T>('GET', await this.pathOf(ref(object), 'read')),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<ListPage<T>> {
    const page = await this.traced({ verb: 'list', kind, namespace: options.namespace }, () =>
      this.listObjects<T>(apiVersion, kind, options),
    );
    return {
      items: page.items,
      // The wire name; client-node's models call it `_continue`.
      continue: (page.metadata as { continue?: string } | undefined)?.continue,
      resourceVersion: page.metadata?.resourceVersion,
    };
  }

  /** One page of a list, as plain JSON (see `json`). */
  private async listObjects<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<KubernetesListObject<T>> {
    const path = await this.pathOf(
      { apiVersion, kind, metadata: { namespace: options.namespace } },
      'list',
    );
    return this.json<KubernetesListObject<T>>('GET', path, {
      fieldSelector: options.fieldSelector,
      labelSelector: options.labelSelector,
      limit: options.limit,
      continue: options.continue,
    });
  }

  /** A JSON merge patch of the object (its fields as the patch), as field manager `roam`. */
  private async mergePatchObject<T extends KubernetesObject>(object: KubernetesObject): Promise<T> {
    return this.json<T>(
      'PATCH',
      await this.pathOf(object, 'patch'),
      { fieldManager: 'roam' },
      { contentType: 'application/merge-patch+json', value: object },
    );
  }

  /** Every item, following `continue` tokens page by page. */
  async *listAll<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: Omit<ListOptions, 'continue'> = {},
  ): AsyncGenerator<T> {
    let token: string | undefined;
    do {
      const page = await this.list<T>(apiVersion, kind, {
        limit: 500,
        ...options,
        continue: token,
      });
      yield* page.items;
      token = page.continue || undefined;
    } while (token);
  }

  mergePatch<T extends KubernetesObject>(
    object: ObjectRef,
    patch: Record<string, unknown>,
  ): Promise<T> {
    return this.traced(targetOf('patch', object), () =>
      this.mergePatchObject<T>({ ...ref(object), ...patch }),
    );
  }

  /**
   * Deletes the object; false when it was already gone (NotFound means done). A pod given
   * `gracePeriodSeconds` gets that long between SIGTERM and SIGKILL instead of its own.
   */
  async delete(
    object: ObjectRef,
    propagationPolicy: 'Foreground' | 'Background' | 'Orphan' = 'Background',
    gracePeriodSeconds?: number,
  ): Promise<boolean> {
    try {
      await this.traced(targetOf('delete', object), async () =>
        this.json('DELETE', await this.pathOf(ref(object), 'delete'), {
          gracePeriodSeconds,
          propagationPolicy,
        }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * A list-then-watch cache of every object of a kind across namespaces (e.g. path
   * `/apis/batch/v1/jobs`), re-listing after a 410 and starting again after any error (see
   * `resilientInformer`). Call `start()`.
   */
  informer<T extends KubernetesObject>(
    path: string,
    apiVersion: string,
    kind: string,
    selectors: InformerSelectors = {},
  ): ResilientInformer<T> {
    const list = () => this.listObjects<T>(apiVersion, kind, selectors);
    return resilientInformer<T>(this.config, path, list, selectors, this.agent);
  }

  /**
   * Watches `path` (e.g. `/apis/batch/v1/jobs`) from `resourceVersion`, bookmarks included;
   * call `abort()` to stop (then `onDone` is not called).
   */
  watch<T>(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (error?: unknown) => void,
  ): Promise<AbortController> {
    return new JsonWatch(this.config, this.agent).watch(
      path,
      params,
      (type, object) => onEvent({ type: type as WatchEvent<T>['type'], object: object as T }),
      (error: unknown) => onDone(error ? toKubeError(error) : undefined),
    );
  }

  /**
   * The pod's log as text (not following). Bounded like every object call: a stream that goes
   * quiet for `logIdleTimeoutMs`, outlasts `requestTimeoutMs` or is dropped fails, and the
   * call is retried like any other transient failure.
   */
  logs(namespace: string, pod: string, options: LogOptions = {}): Promise<string> {
    const query = new URLSearchParams();
    if (options.container) query.set('container', options.container);
    if (options.tailLines !== undefined) query.set('tailLines', String(options.tailLines));
    if (options.sinceSeconds !== undefined) query.set('sinceSeconds', String(options.sinceSeconds));
    if (options.timestamps) query.set('timestamps', 'true');
    const search = query.toString() ? `?${query.toString()}` : '';
    return this.traced({ verb: 'logs', kind: 'Pod', namespace, name: pod }, () =>
      this.request('GET', `/api/v1/namespaces/${namespace}/pods/${pod}/log${search}`, {
        idleTimeoutMs: this.options.logIdleTimeoutMs,
      }),
    );
  }

  /** Streams the pod's log into `sink`; with `follow` it ends when the container ends. */
  followLogs(
    namespace: string,
    pod: string,
    sink: Writable,
    options: LogOptions = {},
    follow = true,
  ): Promise<AbortController> {
    return this.traced({ verb: 'logs', kind: 'Pod', namespace, name: pod }, () =>
      new Log(this.config).log(namespace, pod, options.container ?? '', sink, {
        follow,
        tailLines: options.tailLines,
        sinceSeconds: options.sinceSeconds,
        timestamps: options.timestamps,
      }),
    );
  }
}

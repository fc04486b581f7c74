// HTTP front of the simulated kube-apiserver. Parses the request, delegates to the
// ResourceService, writes JSON, Status errors, watch streams, tables and logs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type CallLog, verbOf } from './calls.js';
import type { Store, StoredEvent } from '../store/store.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiGroupVersion,
  openApiRoot,
  SERVER_VERSION,
  toTable,
  wantsTable,
} from './discovery.js';
import type { KubeObject, Registry, ResourceType } from './registry.js';
import { apiVersionOf, typeKey } from './registry.js';
import { type ResourceRequest, route } from './request.js';
import { type DeleteOptions, objectFilter, type ResourceService } from './resources.js';
import { decodeProtobuf } from './protobuf.js';
import { ApiError, errors } from './status.js';
import { logError } from '../log.js';

export interface LogOptions {
  container?: string;
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps: boolean;
  limitBytes?: number;
  previous: boolean;
}

/** What the kubelet provides for pods/log. */
export interface LogProvider {
  /** Writes the log to `out`, following if asked; resolves when the response is complete. */
  stream(pod: KubeObject, opts: LogOptions, out: ServerResponse): void;
}

export interface ApiServerDeps {
  registry: Registry;
  store: Store;
  resources: ResourceService;
  logs: LogProvider;
  evict: (pod: KubeObject) => void;
  bind: (pod: KubeObject, node: string) => void;
  health: () => string;
  /** Simulator-only routes under /sim/v1 (kubelet/inputs.ts); true when it answered. */
  simRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** Records who made which call (api/calls.ts). */
  calls?: CallLog;
  /**
   * Aggregated read-only APIs served by a controller rather than the store (Kueue's
   * visibility API): the document for a GET of `path`, or undefined when it is not theirs.
   */
  aggregated?: (path: string) => object | undefined;
}

const MAX_BODY = 16 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 5_000;
/**
 * How long watch events wait to share a socket write with the next ones. A flush per turn of
 * the event loop wrote a few hundred bytes at a time under load; `bench:sim-jobs` with roam's
 * three watches: 1.02–1.08 → 0.88–0.92 CPU ms per Job (10 ms: no further change).
 */
const WATCH_FLUSH_MS = 5;

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  if (!raw.trim()) return undefined;
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw errors.badRequest(
      `the body of the request could not be decoded as JSON: ${(err as Error).message}`,
    );
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw errors.badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

export class ApiServer {
  readonly http: Server;
  private readonly openWatches = new Set<ServerResponse>();
  /** Watch streams written to since the last flush, uncorked at the next. */
  private readonly corked = new Set<ServerResponse>();

  constructor(private readonly deps: ApiServerDeps) {
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.http.keepAliveTimeout = 60_000;
  }

  /**
   * Holds a watch stream's writes for up to WATCH_FLUSH_MS: the events of every request and
   * timer in that time (a burst of creates, a pod's status and its Job's) then reach each
   * watcher in one socket write instead of one per event or per turn of the event loop.
   */
  private cork(res: ServerResponse): void {
    if (this.corked.has(res)) return;
    if (this.corked.size === 0) setTimeout(() => this.uncorkAll(), WATCH_FLUSH_MS);
    this.corked.add(res);
    res.cork();
  }

  private uncorkAll(): void {
    for (const res of this.corked) res.uncork();
    this.corked.clear();
  }

  /** Ends every watch and log stream so `server.close()` can finish. */
  endStreams(): void {
    for (const res of this.openWatches) res.end();
    this.openWatches.clear();
  }

  private fail(res: ServerResponse, err: unknown): void {
    const apiErr =
      err instanceof ApiError
        ? err
        : errors.internal(err instanceof Error ? err.message : String(err));
    if (!(err instanceof ApiError)) logError('internal error serving a request', err);
    if (res.headersSent) {
      res.end();
      return;
    }
    send(res, apiErr.code, apiErr.toStatus());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/healthz' || path === '/readyz' || path === '/livez' || path === '/health') {
      const text = this.deps.health();
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Simulated': 'true' });
      res.end(text);
      return;
    }
    if (path.startsWith('/sim/v1/') && this.deps.simRoutes?.(req, res, path)) return;
    if (path === '/version') return send(res, 200, SERVER_VERSION);
    const aggregated = method === 'GET' ? this.deps.aggregated?.(path) : undefined;
    if (aggregated) return send(res, 200, aggregated);
    if (path === '/openapi/v3') return send(res, 200, openApiRoot(this.deps.registry));
    if (path.startsWith('/openapi/v3/')) {
      const p = path.slice('/openapi/v3/'.length).split('/');
      const doc =
        p[0] === 'api'
          ? openApiGroupVersion(this.deps.registry, '', p[1] ?? '')
          : openApiGroupVersion(this.deps.registry, p[1] ?? '', p[2] ?? '');
      if (!doc) throw errors.pathNotFound();
      return send(res, 200, doc);
    }
    const r = route(this.deps.registry, path);
    if (r.kind === 'unknown') throw errors.pathNotFound();
    if (r.kind === 'discovery') {
      if (method !== 'GET')
        throw errors.methodNotAllowed(
          `the server does not allow this method on the requested resource`,
        );
      let doc: object | undefined;
      if (r.group === undefined) doc = r.legacy ? apiVersions() : apiGroupList(this.deps.registry);
      else if (r.version === undefined) {
        const versions = this.deps.registry.groupVersions().get(r.group);
        doc = versions ? apiGroup(r.group, versions) : undefined;
      } else doc = apiResourceList(this.deps.registry, r.group, r.version);
      if (!doc) throw errors.pathNotFound();
      return send(res, 200, doc);
    }
    await this.resource(req, res, r.req, url.searchParams, method);
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    rr: ResourceRequest,
    q: URLSearchParams,
    method: string,
  ): Promise<void> {
    const { type, namespace, name, subresource } = rr;
    const svc = this.deps.resources;
    const watching =
      method === 'GET' && (rr.watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1');
    this.deps.calls?.record({
      agent: String(req.headers['user-agent'] ?? ''),
      verb: verbOf(method, name !== undefined && !rr.watchPrefix, watching),
      group: type.group,
      resource: subresource ? `${type.plural}/${subresource}` : type.plural,
      namespaced: namespace !== undefined,
    });
    const dryRun = q.get('dryRun') === 'All';
    const accept = req.headers.accept;
    if (subresource && !(type.subresources ?? []).includes(subresource))
      throw errors.pathNotFound();
    const contentType = req.headers['content-type'] ?? '';
    let protoBody: unknown;
    if (contentType.includes('protobuf') && method === 'POST' && name === undefined) {
      protoBody = decodeProtobuf(await readRaw(req));
    } else if (contentType.includes('protobuf') || contentType.includes('cbor')) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${contentType})`,
      );
    }
    if (
      method === 'GET' &&
      (rr.watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1')
    ) {
      const fs = name
        ? [`metadata.name=${name}`, q.get('fieldSelector')].filter(Boolean).join(',')
        : (q.get('fieldSelector') ?? undefined);
      return this.watch(req, res, type, namespace, q, fs, accept);
    }
    if (name === undefined) {
      switch (method) {
        case 'GET': {
          const result = svc.list(type, namespace, {
            labelSelector: q.get('labelSelector') ?? undefined,
            fieldSelector: q.get('fieldSelector') ?? undefined,
            limit: intParam(q, 'limit'),
            continue: q.get('continue') ?? undefined,
          });
          if (wantsTable(accept))
            return send(
              res,
              200,
              toTable(
                type,
                result.items,
                result.resourceVersion,
                q.get('includeObject') ?? 'Metadata',
                result.continue,
              ),
            );
          const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
          if (result.continue) metadata.continue = result.continue;
          if (result.remainingItemCount !== undefined)
            metadata.remainingItemCount = result.remainingItemCount;
          return send(res, 200, {
            kind: `${type.kind}List`,
            apiVersion: apiVersionOf(type),
            metadata,
            items: result.items,
          });
        }
        case 'POST': {
          const body = protoBody ?? parseJson(await readBody(req));
          const created = svc.create(type, namespace, body, dryRun);
          return send(res, 201, created);
        }
        case 'DELETE': {
          const opts = await this.deleteOptions(req, q);
          const deleted = svc.deleteCollection(type, namespace, {
            ...opts,
            labelSelector: q.get('labelSelector') ?? undefined,
            fieldSelector: q.get('fieldSelector') ?? undefined,
          });
          return send(res, 200, {
            kind: `${type.kind}List`,
            apiVersion: apiVersionOf(type),
            metadata: { resourceVersion: String(this.deps.store.resourceVersion) },
            items: deleted,
          });
        }
        default:
          throw errors.methodNotAllowed(
            `the server does not allow this method on the requested resource`,
          );
      }
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw errors.methodNotAllowed('only GET is allowed on pods/log');
      const pod = svc.get(type, namespace, name);
      this.deps.logs.stream(
        pod,
        {
          container: q.get('container') ?? undefined,
          follow: q.get('follow') === 'true' || q.get('follow') === '1',
          tailLines: intParam(q, 'tailLines'),
          sinceSeconds: intParam(q, 'sinceSeconds'),
          sinceTime: q.get('sinceTime') ?? undefined,
          timestamps: q.get('timestamps') === 'true',
          limitBytes: intParam(q, 'limitBytes'),
          previous: q.get('previous') === 'true',
        },
        res,
      );
      this.openWatches.add(res);
      res.on('close', () => this.openWatches.delete(res));
      return;
    }
    if (subresource === 'eviction' || subresource === 'binding') {
      if (method !== 'POST')
        throw errors.methodNotAllowed(`only POST is allowed on pods/${subresource}`);
      const body = parseJson(await readBody(req)) as { target?: { name?: string } } | undefined;
      const pod = svc.get(type, namespace, name);
      if (subresource === 'eviction') this.deps.evict(pod);
      else {
        if (!body?.target?.name) throw errors.badRequest('binding target name is required');
        this.deps.bind(pod, body.target.name);
      }
      return send(res, 201, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        code: 201,
      });
    }
    switch (method) {
      case 'GET': {
        const obj = svc.get(type, namespace, name);
        if (wantsTable(accept))
          return send(
            res,
            200,
            toTable(
              type,
              [obj],
              obj.metadata.resourceVersion ?? '',
              q.get('includeObject') ?? 'Metadata',
            ),
          );
        return send(res, 200, obj);
      }
      case 'PUT': {
        const body = parseJson(await readBody(req));
        return send(res, 200, svc.update(type, namespace, name, body, subresource, dryRun));
      }
      case 'PATCH': {
        const raw = await readBody(req);
        const result = svc.patch(
          type,
          namespace,
          name,
          req.headers['content-type'] ?? '',
          raw,
          subresource,
          { dryRun, force: q.get('force') === 'true' },
        );
        return send(res, result.created ? 201 : 200, result.object);
      }
      case 'DELETE': {
        if (subresource)
          throw errors.methodNotAllowed(
            'the server does not allow this method on the requested resource',
          );
        const opts = await this.deleteOptions(req, q);
        const { object, gone } = svc.delete(type, namespace, name, opts);
        return send(res, gone ? 200 : 202, object);
      }
      default:
        throw errors.methodNotAllowed(
          'the server does not allow this method on the requested resource',
        );
    }
  }

  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = (parseJson(await readBody(req)) ?? {}) as DeleteOptions;
    if (typeof body !== 'object' || body === null)
      throw errors.badRequest('DeleteOptions must be an object');
    const policy = q.get('propagationPolicy');
    const opts: DeleteOptions = { ...body };
    if (policy) opts.propagationPolicy = policy;
    const bodyDryRun: unknown = (body as { dryRun?: unknown }).dryRun;
    opts.dryRun =
      q.get('dryRun') === 'All' || (Array.isArray(bodyDryRun) && bodyDryRun.includes('All'));
    return opts;
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    q: URLSearchParams,
    fieldSelector: string | undefined,
    accept: string | undefined,
  ): void {
    const labelSelector = q.get('labelSelector') ?? undefined;
    const matches = objectFilter(type, labelSelector, fieldSelector);
    const filter = `${labelSelector ?? ''}\0${fieldSelector ?? ''}`;
    const rvParam = q.get('resourceVersion');
    const fromRv = rvParam ? Number(rvParam) : undefined;
    if (fromRv !== undefined && !Number.isFinite(fromRv))
      throw errors.badRequest(`invalid resource version: ${rvParam}`);
    const table = wantsTable(accept);
    const includeObject = q.get('includeObject') ?? 'Metadata';
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache',
    });
    res.flushHeaders();
    const write = (line: string) => {
      // Ended (timeout, a fault, a watcher cut off below) but not closed yet: nothing more.
      if (res.writableEnded) return;
      if (res.writableLength > 64 * 1024 * 1024) {
        // A watcher this far behind would only grow memory; the client re-watches.
        res.end();
        return;
      }
      this.cork(res);
      res.write(line);
    };
    const render = (ev: StoredEvent, now: boolean, before: boolean | undefined): string => {
      // Selector views: an object that stops matching leaves as DELETED, one that starts
      // matching arrives as ADDED, as the apiserver's filtered watch does.
      let kind: string = ev.type;
      if (ev.type === 'MODIFIED' && !now) kind = 'DELETED';
      else if (ev.type === 'MODIFIED' && before === false) kind = 'ADDED';
      if (!table && kind === ev.type) return ev.line;
      const obj = table
        ? toTable(type, [ev.object], ev.object.metadata.resourceVersion ?? '', includeObject)
        : ev.object;
      return `${JSON.stringify({ type: kind, object: obj })}\n`;
    };
    let unsubscribe: () => void = () => undefined;
    try {
      unsubscribe = this.deps.store.watch(
        typeKey(type),
        {
          namespace,
          filter,
          matches,
          send: (ev, now, before) => write(render(ev, now, before)),
        },
        fromRv,
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 410) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
        return;
      }
      throw err;
    }
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const bookmark = () => {
      const line = JSON.stringify({
        type: 'BOOKMARK',
        object: {
          kind: type.kind,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: String(this.deps.store.resourceVersion) },
        },
      });
      write(`${line}\n`);
    };
    if (bookmarks && q.get('sendInitialEvents') === 'true') bookmark();
    const timer = bookmarks ? setInterval(bookmark, BOOKMARK_INTERVAL_MS) : undefined;
    const timeoutSeconds = intParam(q, 'timeoutSeconds');
    const timeout = timeoutSeconds ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    this.openWatches.add(res);
    const cleanup = () => {
      unsubscribe();
      if (timer) clearInterval(timer);
      if (timeout) clearTimeout(timeout);
      this.openWatches.delete(res);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
  }
}

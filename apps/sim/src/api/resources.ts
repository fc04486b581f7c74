// The verbs on one resource type: get, list, create, update, patch, delete, deletecollection.
// Every write goes validate → default → admission → store, as in the apiserver.
import { randomUUID } from 'node:crypto';
import { cloneJson } from '../store/json-equal.js';
import type { Store } from '../store/store.js';
import type { Namespace, Pod } from './models.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { KubeObject, ResourceType } from './registry.js';
import { typeKey } from './registry.js';
import { getPath, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, errors, type StatusCause } from './status.js';
import { validateLabels, validateName } from './validation.js';

export type Operation = 'CREATE' | 'UPDATE';

/** Admission plugins mutate or reject an object before it is stored. */
export interface AdmissionPlugin {
  admit(op: Operation, type: ResourceType, obj: KubeObject, old: KubeObject | undefined): void;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const BASE_FIELDS = ['metadata.name', 'metadata.namespace'];

export function objectFilter(
  type: ResourceType,
  labelSelector?: string,
  fieldSelector?: string,
): (o: KubeObject) => boolean {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(
    fieldSelector,
    new Set([...BASE_FIELDS, ...(type.fieldLabels ?? [])]),
  );
  return (o) => labels(o.metadata.labels) && fields(o);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class ResourceService {
  constructor(
    private readonly store: Store,
    private readonly admission: AdmissionPlugin[],
  ) {}

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return this.store.require(typeKey(type), namespace, name);
  }

  list(type: ResourceType, namespace: string | undefined, opts: ListOptions): ListResult {
    const filter = objectFilter(type, opts.labelSelector, opts.fieldSelector);
    const key = typeKey(type);
    let start = '';
    let rv = String(this.store.resourceVersion);
    if (opts.continue) {
      try {
        const tok = JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')) as {
          start: string;
          rv: string;
        };
        start = tok.start;
        rv = tok.rv;
      } catch {
        throw errors.badRequest('continue key is not valid: illegal base64 data');
      }
    }
    const sortKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const all = [...this.store.list(key, namespace)]
      .filter(filter)
      .map((o) => [sortKey(o), o] as const);
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let items = start ? all.filter(([k]) => k > start) : all;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const result: ListResult = { items: [], resourceVersion: rv };
    if (limit !== undefined && items.length > limit) {
      const last = items[limit - 1]![0];
      result.remainingItemCount = items.length - limit;
      result.continue = Buffer.from(JSON.stringify({ start: last, rv })).toString('base64url');
      items = items.slice(0, limit);
    }
    result.items = items.map(([, o]) => o);
    return result;
  }

  private prepareNew(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (!isObject(body)) throw errors.badRequest('the body of the request must be a JSON object');
    const obj = cloneJson(body) as KubeObject;
    if (!isObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (type.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace ?? meta.namespace;
    }
    for (const f of [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'selfLink',
    ])
      delete meta[f];
    return obj;
  }

  create(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    dryRun = false,
  ): KubeObject {
    const obj = this.prepareNew(type, namespace, body);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`;
    }
    this.validate(type, obj);
    if (type.namespaced) this.requireNamespace(meta.namespace ?? '');
    const key = typeKey(type);
    if (this.store.get(key, meta.namespace, meta.name ?? ''))
      throw errors.alreadyExists(type, meta.name ?? '');
    meta.uid = randomUUID();
    type.defaults?.(obj);
    for (const plugin of this.admission) plugin.admit('CREATE', type, obj, undefined);
    if (dryRun) return obj;
    return this.store.create(key, obj);
  }

  private requireNamespace(namespace: string): void {
    if (!namespace)
      throw errors.badRequest(
        'the server could not find the requested resource: namespace is required',
      );
    const ns = this.store.get<Namespace>('namespaces', undefined, namespace);
    if (!ns) throw errors.namespaceNotFound(namespace);
    if (ns.status?.phase === 'Terminating') {
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        { name: namespace, kind: 'namespaces' },
      );
    }
  }

  validate(type: ResourceType, obj: KubeObject): void {
    const causes: StatusCause[] = [];
    if (!isObject(obj.metadata))
      causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'metadata' });
    else {
      if (!obj.metadata.name && obj.metadata.generateName)
        causes.push(
          ...validateName(
            'metadata.generateName',
            `${obj.metadata.generateName}x`,
            !!type.nameIsLabel,
          ),
        );
      else causes.push(...validateName('metadata.name', obj.metadata.name, !!type.nameIsLabel));
      causes.push(...validateLabels('metadata.labels', obj.metadata.labels));
      causes.push(...validateLabels('metadata.annotations', obj.metadata.annotations));
    }
    if (causes.length === 0 && type.validate) causes.push(...type.validate(obj));
    if (causes.length)
      throw errors.invalid(
        type,
        String(obj.metadata?.name ?? obj.metadata?.generateName ?? ''),
        causes,
      );
  }

  /** PUT on the object (status preserved) or on its status subresource (only status taken). */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource?: string,
    dryRun = false,
  ): KubeObject {
    const obj = this.prepareNew(type, namespace, body);
    const bodyRv =
      isObject(body) && isObject(body.metadata)
        ? (body.metadata.resourceVersion as string | undefined)
        : undefined;
    if (obj.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    return this.replace(type, namespace, name, obj, bodyRv, subresource, dryRun);
  }

  private replace(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    obj: KubeObject,
    expectedRv: string | undefined,
    subresource: string | undefined,
    dryRun: boolean,
  ): KubeObject {
    const key = typeKey(type);
    const old = this.store.require(key, namespace, name);
    if (expectedRv && expectedRv !== old.metadata.resourceVersion) {
      throw errors.conflict(
        type,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    let next: KubeObject;
    if (subresource === 'status') {
      next = cloneJson(old);
      next.status = obj.status;
    } else if (subresource === 'finalize' && type.plural === 'namespaces') {
      next = cloneJson(old);
      next.spec = {
        ...(old as Namespace).spec,
        finalizers: (obj as Namespace).spec?.finalizers ?? [],
      };
    } else {
      next = obj;
      if ((type.subresources ?? []).includes('status')) next.status = old.status;
      const oldNode = (old as Pod).spec?.nodeName;
      const nextPod = next as Pod;
      // Binding is one-way: an update cannot unbind a pod.
      if (type.plural === 'pods' && oldNode && nextPod.spec && !nextPod.spec.nodeName)
        nextPod.spec.nodeName = oldNode;
      this.validate(type, next);
    }
    next.metadata.uid = old.metadata.uid;
    for (const plugin of this.admission) plugin.admit('UPDATE', type, next, old);
    if (dryRun) return next;
    return this.store.update(key, next, expectedRv);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    subresource?: string,
    opts: { dryRun?: boolean; force?: boolean } = {},
  ): { object: KubeObject; created: boolean } {
    const ct = contentType.split(';')[0]!.trim();
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch {
      if (ct === 'application/apply-patch+yaml')
        throw errors.badRequest(
          'the simulator accepts server-side apply bodies in JSON form only (YAML is a superset: send JSON)',
        );
      throw errors.badRequest('error decoding patch: invalid JSON');
    }
    const key = typeKey(type);
    const old = this.store.get(key, namespace, name);
    if (!old) {
      if (ct === 'application/apply-patch+yaml' && !subresource) {
        if (!isObject(patch)) throw errors.badRequest('apply patch must be an object');
        const body = {
          ...patch,
          metadata: { ...(isObject(patch.metadata) ? patch.metadata : {}), name },
        };
        return { object: this.create(type, namespace, body, opts.dryRun), created: true };
      }
      throw errors.notFound(type, name);
    }
    const base = cloneJson(old);
    let next: unknown;
    switch (ct) {
      case 'application/merge-patch+json':
        next = mergePatch(base, patch);
        break;
      case 'application/strategic-merge-patch+json':
        if (!this.isBuiltin(type)) {
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        }
        next = strategicMergePatch(base, patch);
        break;
      case 'application/json-patch+json':
        next = jsonPatch(base, patch);
        break;
      case 'application/apply-patch+yaml':
        next = strategicMergePatch(base, patch);
        break;
      default:
        throw errors.unsupportedMediaType(ct);
    }
    if (!isObject(next) || !isObject(next.metadata))
      throw errors.badRequest('patch produced an invalid object');
    const obj = next as KubeObject;
    if (obj.metadata.name !== name)
      throw errors.badRequest('the patch may not change the object name');
    const precondition =
      isObject(patch) && isObject(patch.metadata)
        ? (patch.metadata.resourceVersion as string | undefined)
        : undefined;
    for (const f of ['creationTimestamp', 'deletionTimestamp', 'generation'])
      obj.metadata[f] = old.metadata[f];
    if (subresource === 'status') {
      return {
        object: this.replace(
          type,
          namespace,
          name,
          { ...base, status: obj.status },
          precondition,
          'status',
          !!opts.dryRun,
        ),
        created: false,
      };
    }
    return {
      object: this.replace(type, namespace, name, obj, precondition, undefined, !!opts.dryRun),
      created: false,
    };
  }

  private isBuiltin(type: ResourceType): boolean {
    return type.group === '' || type.group === 'batch' || type.group === 'coordination.k8s.io';
  }

  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): { object: KubeObject; gone: boolean } {
    const finalizers: string[] = [];
    const policy = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : undefined);
    if (policy === 'Foreground') finalizers.push('foregroundDeletion');
    if (policy === 'Orphan') finalizers.push('orphan');
    if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
      throw errors.invalid(
        { group: 'meta.k8s.io', plural: 'deleteoptions', kind: 'DeleteOptions' },
        '',
        [
          {
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
            field: 'propagationPolicy',
          },
        ],
      );
    }
    // Objects with no dependents are deleted at once even under Foreground/Orphan.
    const current = this.store.require(typeKey(type), namespace, name);
    const hasDependents = this.store.dependentsOf(current.metadata.uid ?? '').length > 0;
    if (opts.dryRun) return { object: current, gone: true };
    return this.store.delete(typeKey(type), namespace, name, {
      uid: opts.preconditions?.uid,
      rv: opts.preconditions?.resourceVersion,
      finalizers: hasDependents ? finalizers : [],
      // Namespaces go Terminating; the namespace controller empties them, then removes them.
      terminate:
        type.group === '' && type.plural === 'namespaces'
          ? (ns) =>
              void ((ns as Namespace).status = {
                ...(ns as Namespace).status,
                phase: 'Terminating',
              })
          : undefined,
    });
  }

  deleteCollection(
    type: ResourceType,
    namespace: string | undefined,
    opts: ListOptions & DeleteOptions,
  ): KubeObject[] {
    const { items } = this.list(type, namespace, {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    });
    const out: KubeObject[] = [];
    for (const item of items) {
      try {
        out.push(this.delete(type, item.metadata.namespace, item.metadata.name ?? '', opts).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return out;
  }
}

export interface DeleteOptions {
  propagationPolicy?: string;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export { getPath };

// Every served resource is a ResourceType registered here. Adding a CRD group (Kueue, ...)
// means calling `registry.register(...)`; routing, discovery, OpenAPI, tables, storage and
// watch all read from this list.
import type { StatusCause } from './status.js';

export interface KubeObject<Spec = unknown, Status = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  priority?: number;
  description?: string;
  cell: (obj: KubeObject, now: number) => string | number | boolean;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served besides the object itself ('status', 'log', 'eviction'). */
  subresources?: string[];
  /** Field selector paths beyond metadata.name / metadata.namespace. */
  fieldLabels?: string[];
  /** Columns after Name for `kubectl get`; Age is appended. */
  columns?: Column[];
  /** Priority of the Name column in tables (events hide it unless -o wide). */
  namePriority?: number;
  /** DNS-1123 label (namespaces, services) instead of subdomain. */
  nameIsLabel?: boolean;
  defaults?: (obj: KubeObject) => void;
  validate?: (obj: KubeObject) => StatusCause[];
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Identifies a type in maps and in the store: "pods", "jobs.batch". */
export function typeKey(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export class Registry {
  private readonly byKey = new Map<string, ResourceType>();
  private readonly byGvp = new Map<string, ResourceType>();
  private readonly byGvk = new Map<string, ResourceType>();

  register(t: ResourceType): void {
    this.byKey.set(typeKey(t), t);
    this.byGvp.set(`${t.group}/${t.version}/${t.plural}`, t);
    this.byGvk.set(`${apiVersionOf(t)}/${t.kind}`, t);
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byGvp.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.byGvk.get(`${apiVersion}/${kind}`);
  }

  get(key: string): ResourceType {
    const t = this.byKey.get(key);
    if (!t) throw new Error(`resource type ${key} is not registered`);
    return t;
  }

  groupVersions(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.byKey.values()) {
      const list = out.get(t.group) ?? [];
      if (!list.includes(t.version)) list.push(t.version);
      out.set(t.group, list);
    }
    return out;
  }
}

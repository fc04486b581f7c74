// LimitRanger: fills container requests/limits from a namespace's LimitRange defaults and
// rejects containers outside min/max, as the built-in admission plugin does.
import type { LimitRange, Pod } from '../api/models.js';
import { formatQuantity, parseQuantity } from '../api/quantity.js';
import type { KubeObject, ResourceType } from '../api/registry.js';
import type { AdmissionPlugin, Operation } from '../api/resources.js';
import { errors } from '../api/status.js';
import type { Store } from '../store/store.js';

export class LimitRangeAdmission implements AdmissionPlugin {
  constructor(private readonly store: Store) {}

  admit(op: Operation, type: ResourceType, obj: KubeObject): void {
    if (op !== 'CREATE' || type.plural !== 'pods' || type.group !== '') return;
    const ns = obj.metadata.namespace ?? '';
    const pod = obj as Pod;
    for (const lr of this.store.list<LimitRange>('limitranges', ns)) {
      for (const item of lr.spec?.limits ?? []) {
        if (item.type !== 'Container') continue;
        for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
          c.resources ??= {};
          const limits = { ...(item.default ?? {}), ...(c.resources.limits ?? {}) };
          const requests = {
            ...(item.defaultRequest ?? item.default ?? {}),
            ...(c.resources.requests ?? {}),
          };
          // An explicit limit with no request means request = limit, not the range default.
          for (const [k, v] of Object.entries(c.resources.limits ?? {}))
            if (!(c.resources.requests ?? {})[k]) requests[k] = v;
          if (Object.keys(limits).length) c.resources.limits = limits;
          if (Object.keys(requests).length) c.resources.requests = requests;
          for (const [res, max] of Object.entries(item.max ?? {})) {
            const lim = parseQuantity(limits[res]);
            const m = parseQuantity(max);
            if (m !== undefined && (lim === undefined || lim > m)) {
              throw errors.forbidden(
                type,
                obj.metadata.name ?? '',
                `maximum ${res} usage per Container is ${String(max)}, ${lim === undefined ? 'No limit is specified' : `but limit is ${formatQuantity(lim, res)}`}`,
              );
            }
          }
          for (const [res, min] of Object.entries(item.min ?? {})) {
            const req = parseQuantity(requests[res]);
            const m = parseQuantity(min);
            if (m !== undefined && (req === undefined || req < m)) {
              throw errors.forbidden(
                type,
                obj.metadata.name ?? '',
                `minimum ${res} usage per Container is ${String(min)}, but request is ${req === undefined ? 0 : formatQuantity(req, res)}`,
              );
            }
          }
        }
      }
    }
  }
}

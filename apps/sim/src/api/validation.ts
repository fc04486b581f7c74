// Field validation shared by the built-in types, with the apiserver's messages.
import { isQuantity } from './quantity.js';
import { invalidValue, required, type StatusCause } from './status.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateName(field: string, name: unknown, label: boolean): StatusCause[] {
  if (typeof name !== 'string' || name === '') return [required(field)];
  if (label) {
    if (name.length > 63 || !LABEL.test(name)) {
      return [
        invalidValue(
          field,
          name,
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
      ];
    }
    return [];
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    return [
      invalidValue(
        field,
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    ];
  }
  return [];
}

export function validateLabels(field: string, labels: unknown): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels))
    return [invalidValue(field, labels, 'must be a map of strings')];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (typeof v !== 'string') out.push(invalidValue(`${field}.${k}`, v, 'must be a string'));
  }
  return out;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Validates untrusted pod spec JSON; the typed Pod view is only safe after this passes. */
export function validatePodSpec(field: string, input: unknown): StatusCause[] {
  const spec = record(input);
  if (!spec) return [required(field)];
  const out: StatusCause[] = [];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    out.push(required(`${field}.containers`));
    return out;
  }
  const seen = new Set<string>();
  const check = (list: unknown[], path: string) => {
    list.forEach((item, i) => {
      const at = `${path}[${i}]`;
      const c = record(item);
      if (!c) return void out.push(required(at));
      out.push(...validateName(`${at}.name`, c.name, true));
      if (typeof c.name === 'string') {
        if (seen.has(c.name))
          out.push({
            reason: 'FieldValueDuplicate',
            message: `Duplicate value: "${c.name}"`,
            field: `${at}.name`,
          });
        seen.add(c.name);
      }
      if (typeof c.image !== 'string' || c.image === '') out.push(required(`${at}.image`));
      const resources = record(c.resources);
      for (const kind of ['requests', 'limits'] as const) {
        for (const [res, q] of Object.entries(record(resources?.[kind]) ?? {})) {
          if (!isQuantity(q))
            out.push(
              invalidValue(
                `${at}.resources.${kind}[${res}]`,
                q,
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
              ),
            );
        }
      }
      for (const list of ['command', 'args'] as const) {
        const v = c[list];
        if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string')))
          out.push(invalidValue(`${at}.${list}`, v, 'must be a list of strings'));
      }
    });
  };
  check(containers, `${field}.containers`);
  if (Array.isArray(spec.initContainers)) check(spec.initContainers, `${field}.initContainers`);
  const rp = spec.restartPolicy;
  if (
    rp !== undefined &&
    !(typeof rp === 'string' && ['Always', 'OnFailure', 'Never'].includes(rp))
  ) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(rp)}: supported values: "Always", "OnFailure", "Never"`,
      field: `${field}.restartPolicy`,
    });
  }
  return out;
}

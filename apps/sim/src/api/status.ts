// Errors as the apiserver returns them: a meta/v1 Status body with a reason and HTTP code.
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] };
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusBody['details'],
  ) {
    super(message);
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) body.details = this.details;
    return body;
  }
}

export interface GroupResource {
  group: string;
  plural: string;
  kind: string;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.plural}.${gr.group}` : gr.plural;
}

export const errors = {
  notFound: (gr: GroupResource, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.plural,
    }),
  namespaceNotFound: (namespace: string) =>
    new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
      name: namespace,
      kind: 'namespaces',
    }),
  alreadyExists: (gr: GroupResource, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.plural,
    }),
  conflict: (gr: GroupResource, name: string, why: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
      {
        name,
        group: gr.group,
        kind: gr.plural,
      },
    ),
  invalid: (gr: GroupResource, name: string, causes: StatusCause[]) =>
    new ApiError(
      422,
      'Invalid',
      `${gr.kind} "${name}" is invalid: ${causes.map((c) => `${c.field ?? ''}: ${c.message}`).join(', ')}`,
      { name, group: gr.group, kind: gr.kind, causes },
    ),
  forbidden: (gr: GroupResource, name: string, why: string) =>
    new ApiError(403, 'Forbidden', `${qualified(gr)} "${name}" is forbidden: ${why}`, {
      name,
      group: gr.group,
      kind: gr.plural,
    }),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  unsupportedMediaType: (type: string) =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${type})`,
    ),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  pathNotFound: () =>
    new ApiError(404, 'NotFound', 'the server could not find the requested resource'),
  invalidTest: (path: string) =>
    new ApiError(
      422,
      'Invalid',
      `the server rejected our request due to an error in our request: testing value ${path} failed`,
    ),
  internal: (message: string) =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
};

export function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

export function invalidValue(field: string, value: unknown, why: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
    field,
  };
}

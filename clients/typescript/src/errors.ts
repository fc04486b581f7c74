import type { components } from './generated/openapi.js';

export type Problem = components['schemas']['Problem'];

/**
 * Every non-2xx answer of the API, carrying its `application/problem+json` body. Switch on
 * `type` (stable) rather than on `title` or `detail` (prose).
 */
export class RoamError extends Error {
  readonly status: number;
  readonly type: string;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'RoamError';
    this.status = problem.status;
    this.type = problem.type;
    this.problem = problem;
  }

  /** Builds the error from a failed response, whatever its body. */
  static async from(response: Response): Promise<RoamError> {
    const text = await response.text().catch(() => '');
    return RoamError.fromBody(response, text);
  }

  static fromBody(response: Response, body: unknown): RoamError {
    let parsed = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    if (isProblem(parsed)) return new RoamError(parsed);
    return new RoamError({
      type: 'about:blank',
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      ...(typeof body === 'string' && body ? { detail: body.slice(0, 500) } : {}),
    });
  }
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.type === 'string' &&
    typeof record.title === 'string' &&
    typeof record.status === 'number'
  );
}

import { ProblemError, problemTypes } from './problem.js';

/**
 * Input Postgres cannot store, refused as a 400 before it reaches a write (where it would be a
 * 500): a NUL character (`text` and `jsonb` cannot hold one) and half of a UTF-16 surrogate
 * pair in JSON (`jsonb` rejects it).
 */
export function unstorable(what: string): ProblemError {
  return new ProblemError(
    400,
    problemTypes.malformed,
    'Malformed request',
    `${what}, which roam cannot store`,
  );
}

/**
 * A `\u0000` escape in JSON text, unless its backslash is itself escaped (`\\u0000` is the
 * six characters, not NUL).
 */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

/** A `\u` escape of a UTF-16 surrogate: the JSON text may hold half of a pair. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Whether JSON text holds a NUL character in a string. A raw NUL byte is not JSON at all. */
export function escapesNul(text: string | Buffer): boolean {
  if (!text.includes('\\u0000')) return false;
  return NUL_ESCAPE.test(typeof text === 'string' ? text : text.toString('utf8'));
}

/** Whether a string is well-formed UTF-16 (no half of a surrogate pair alone). */
const wellFormed = (text: string): boolean =>
  (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Refuses JSON text Postgres cannot store once parsed. Text that is not JSON is left to the
 * parse that follows. Surrogate escapes are rare (a client that escapes every non-ASCII
 * character sends pairs), and only then is the text parsed here.
 */
export function refuseUnstorableJson(text: string): void {
  if (escapesNul(text)) throw unstorable('a string holds a NUL character (\\u0000)');
  if (!SURROGATE_ESCAPE.test(text)) return;
  let lone = false;
  try {
    JSON.parse(text, (key: string, value: unknown) => {
      if (!wellFormed(key) || (typeof value === 'string' && !wellFormed(value))) lone = true;
      return value;
    });
  } catch {
    return;
  }
  if (lone) throw unstorable('a string holds half of a UTF-16 surrogate pair ("\\ud800" alone)');
}

/**
 * body-parser's `verify` for JSON bodies: refuses what Postgres cannot store before any handler
 * sees the body (a byte search that finds nothing in most bodies), and a body in another charset
 * than UTF-8 (RFC 8259), which that search could not read. body-parser has lowercased the
 * charset and let only `utf-*` through.
 */
export function verifyJsonBody(
  _request: unknown,
  _response: unknown,
  body: Buffer,
  encoding: string,
): void {
  if (encoding !== 'utf-8')
    throw new ProblemError(
      415,
      problemTypes.unsupportedMediaType,
      'Unsupported encoding',
      `send JSON as UTF-8, not ${encoding}`,
    );
  if (body.includes('\\u')) refuseUnstorableJson(body.toString('utf8'));
}

/** Express middleware: refuses a NUL character in the path or query string (`%00`). */
export function refuseNulInUrl(
  request: { url: string },
  _response: unknown,
  next: (error?: unknown) => void,
): void {
  next(
    request.url.includes('%00')
      ? unstorable('the path or query string holds a NUL character (%00)')
      : undefined,
  );
}

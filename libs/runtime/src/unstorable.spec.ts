import { describe, expect, it } from '@jest/globals';

import { ProblemError } from './problem.js';
import { escapesNul, refuseNulInUrl, refuseUnstorableJson } from './unstorable.js';

describe('NUL characters', () => {
  it('finds a JSON escape of NUL, not the escaped backslash before "u0000"', () => {
    const nul = JSON.stringify({ command: ['a\u0000b'] });
    expect(escapesNul(nul)).toBe(true);
    expect(escapesNul(Buffer.from(nul))).toBe(true);
    // A backslash, then "u0000": text, not NUL.
    expect(escapesNul(JSON.stringify({ command: ['\\u0000'] }))).toBe(false);
    // An escaped backslash, then NUL.
    expect(escapesNul(JSON.stringify({ command: ['\\\u0000'] }))).toBe(true);
    expect(escapesNul('{"a": "b"}')).toBe(false);
  });

  it('refuses with a 400 problem', () => {
    expect(() => refuseUnstorableJson('["\\u0000"]')).toThrow(ProblemError);
    expect(() => refuseUnstorableJson('["\\\\u0000"]')).not.toThrow();
    const passed: unknown[] = [];
    refuseNulInUrl({ url: '/api/v1/jobs?queue=a%00b' }, undefined, (error) => passed.push(error));
    refuseNulInUrl({ url: '/api/v1/jobs?queue=a' }, undefined, (error) => passed.push(error));
    expect(passed).toEqual([expect.objectContaining({ status: 400 }), undefined]);
  });

  it('refuses half of a surrogate pair in a value or a key, not a whole pair, nor text that is not JSON', () => {
    expect(() => refuseUnstorableJson('["\\ud800"]')).toThrow(/surrogate/);
    expect(() => refuseUnstorableJson('["x\\udc00"]')).toThrow(/surrogate/);
    expect(() => refuseUnstorableJson('{"\\ud800": 1}')).toThrow(/surrogate/);
    expect(() => refuseUnstorableJson('["\\ud83d\\ude00"]')).not.toThrow();
    expect(() => refuseUnstorableJson('["\\ud800"')).not.toThrow();
    expect(() => refuseUnstorableJson('["\\u0000"]')).toThrow(/NUL/);
  });
});

import { describe, expect, it } from '@jest/globals';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';

describe('patches', () => {
  it('merge patch removes nulls and replaces lists', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] })).toEqual({
      a: 1,
      b: { d: 3 },
      l: [3],
    });
  });

  it('strategic merge patch merges containers by name and honours $patch: delete', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', image: '1' },
          { name: 'b', image: '2' },
        ],
      },
    };
    expect(
      strategicMergePatch(pod, {
        spec: {
          containers: [
            { name: 'b', image: '3' },
            { name: 'c', image: '4' },
          ],
        },
      }),
    ).toEqual({
      spec: {
        containers: [
          { name: 'a', image: '1' },
          { name: 'b', image: '3' },
          { name: 'c', image: '4' },
        ],
      },
    });
    expect(
      strategicMergePatch(pod, {
        spec: {
          containers: [{ name: 'a', $patch: 'delete' }],
          '$setElementOrder/containers': [{ name: 'b' }],
        },
      }),
    ).toEqual({ spec: { containers: [{ name: 'b', image: '2' }] } });
  });

  it('json patch applies add/replace/remove/test and rejects a failed test', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1] };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/metadata/labels/b', value: '2' },
        { op: 'remove', path: '/metadata/labels/a' },
        { op: 'add', path: '/list/-', value: 2 },
      ]),
    ).toEqual({ metadata: { labels: { b: '2' } }, list: [1, 2] });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }])).toThrow(
      'testing value',
    );
    expect(doc).toEqual({ metadata: { labels: { a: '1' } }, list: [1] });
  });
});

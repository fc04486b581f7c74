import { describe, expect, it } from '@jest/globals';

import type { Pod } from '../api/models.js';
import { expandSubPathExpr, FileStore } from './files.js';

describe('expandSubPathExpr', () => {
  it.each([
    ['results/j/$(R)', { R: 'worker-1' }, 'results/j/worker-1'],
    ['results/j/$(A)-$(B)/$(C)', { A: 'w', B: '2', C: '0' }, 'results/j/w-2/0'],
    ['results/j/$(MISSING)', {}, 'results/j/$(MISSING)'],
    ['results/$$(R)', { R: 'x' }, 'results/$(R)'],
    ['plain', { R: 'x' }, 'plain'],
  ])('%s with %j is %s', (expr, env, expected) => {
    expect(expandSubPathExpr(expr, env)).toBe(expected);
  });
});

describe('FileStore.claimOf', () => {
  const pod = (mount: Record<string, unknown>): Pod => ({
    metadata: {
      name: 'p',
      namespace: 'ns',
      annotations: { 'batch.kubernetes.io/job-completion-index': '3' },
    },
    spec: {
      containers: [
        {
          name: 'main',
          env: [
            {
              name: 'IDX',
              valueFrom: {
                fieldRef: {
                  fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                },
              },
            },
          ],
          volumeMounts: [{ name: 'v', mountPath: '/roam/results', ...mount }],
        },
      ],
      volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'roam-results' } }],
    },
  });

  it('puts a subPathExpr mount under the path its downward API env gives', () => {
    expect(
      new FileStore().claimOf(
        pod({ subPathExpr: 'results/j/$(IDX)' }),
        'main',
        '/roam/results/a.txt',
      ),
    ).toEqual({ claim: 'roam-results', path: 'results/j/3/a.txt' });
  });

  it('keeps a subPath mount as it is', () => {
    expect(
      new FileStore().claimOf(pod({ subPath: 'results/j' }), 'main', '/roam/results/a.txt'),
    ).toEqual({ claim: 'roam-results', path: 'results/j/a.txt' });
  });
});

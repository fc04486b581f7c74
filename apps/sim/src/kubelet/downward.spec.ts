import { describe, expect, it } from '@jest/globals';

import type { Container, Pod } from '../api/models.js';
import { withDownwardEnv } from './downward.js';

const pod: Pod = {
  metadata: { name: 'p', annotations: { 'jobset.sigs.k8s.io/job-index': '1' } },
  spec: { containers: [] },
};

const fromAnnotation = (name: string, key: string) => ({
  name,
  valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${key}']` } },
});

describe('withDownwardEnv: fieldRefs, then $(VAR) expanded as the kubelet does', () => {
  it.each<[string, NonNullable<Container['env']>, Record<string, string | undefined>]>([
    [
      'a reference to a variable defined before it',
      [
        fromAnnotation('SLICE', 'jobset.sigs.k8s.io/job-index'),
        { name: 'HOSTS', value: 'js-s-$(SLICE)-0.js,js-s-$(SLICE)-1.js' },
      ],
      { SLICE: '1', HOSTS: 'js-s-1-0.js,js-s-1-1.js' },
    ],
    [
      'a reference to a variable defined after it stays as written',
      [
        { name: 'HOSTS', value: 'x-$(SLICE)' },
        fromAnnotation('SLICE', 'jobset.sigs.k8s.io/job-index'),
      ],
      { HOSTS: 'x-$(SLICE)', SLICE: '1' },
    ],
    ['an unknown variable stays as written', [{ name: 'A', value: '$(NOPE)' }], { A: '$(NOPE)' }],
    [
      '$$ is a literal $',
      [
        { name: 'A', value: '1' },
        { name: 'B', value: '$$(A) $(A)' },
      ],
      { A: '1', B: '$(A) 1' },
    ],
    ['no reference: unchanged', [{ name: 'A', value: 'plain' }], { A: 'plain' }],
  ])('%s', (_name, env, expected) => {
    const out = withDownwardEnv({ name: 'main', image: 'busybox', env }, pod);
    expect(Object.fromEntries((out.env ?? []).map((e) => [e.name, e.value]))).toEqual(expected);
  });
});

import { describe, expect, it } from '@jest/globals';

import { attemptOfObjectName, kubeJobName, kubeJobSetName } from './labels.js';

describe('attemptOfObjectName', () => {
  const id = '01930000-0000-7000-8000-00000000000a';

  it("reads back a Job's and a JobSet's name", () => {
    expect(attemptOfObjectName(kubeJobName(id, 2))).toEqual({ jobId: id, attempt: 2 });
    expect(attemptOfObjectName(kubeJobSetName(id, 3))).toEqual({ jobId: id, attempt: 3 });
  });

  it('is undefined for any other name', () => {
    for (const name of [
      'urgent',
      `roam-${id}`,
      `roam-${id}-0`,
      'r0193-1',
      `${kubeJobSetName(id, 1)}x`,
    ])
      expect(attemptOfObjectName(name)).toBeUndefined();
  });
});

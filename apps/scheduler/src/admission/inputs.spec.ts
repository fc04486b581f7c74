import { describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';

import { INPUTS_CONTAINER } from './inputs.js';
import { jobManifest } from './job-manifest.js';

const input = (inputs?: { url: string; format: 'zip' | 'tar.gz'; image: string }) => ({
  id: '01930000-0000-7000-8000-000000000001',
  tenantId: 'city-a',
  namespace: 'roam-city-a',
  name: 'sim',
  attempt: 1,
  spec: jobSpecSchema.parse({ image: 'sumo', command: ['sh', '-c', 'true'] }),
  defaultMaxDurationSeconds: 60,
  ...(inputs ? { inputs } : {}),
});

describe('the inputs fetcher in the Job manifest', () => {
  it('adds no init container to a job without inputs, but still gives it /roam', () => {
    const pod = jobManifest(input()).spec.template.spec as unknown as {
      volumes: unknown[];
      containers: { volumeMounts: unknown[] }[];
    };
    expect(pod).not.toHaveProperty('initContainers');
    expect(pod.volumes).toEqual([{ name: 'roam-work', emptyDir: {} }]);
    expect(pod.containers[0]!.volumeMounts).toEqual([{ name: 'roam-work', mountPath: '/roam' }]);
  });

  it('unpacks the archive from its presigned URL into ROAM_INPUTS_DIR before main starts', () => {
    const pod = jobManifest(
      input({
        url: 'http://s3/roam/in.zip?X-Amz-Signature=abc',
        format: 'zip',
        image: 'busybox:1.36',
      }),
    ).spec.template.spec as unknown as {
      initContainers: {
        name: string;
        image: string;
        env: { name: string; value: string }[];
        volumeMounts: unknown[];
      }[];
    };
    expect(pod.initContainers).toHaveLength(1);
    const fetcher = pod.initContainers[0]!;
    expect(fetcher.name).toBe(INPUTS_CONTAINER);
    expect(fetcher.image).toBe('busybox:1.36');
    expect(fetcher.env).toEqual([
      { name: 'ROAM_INPUTS_URL', value: 'http://s3/roam/in.zip?X-Amz-Signature=abc' },
      { name: 'ROAM_INPUTS_FORMAT', value: 'zip' },
      { name: 'ROAM_INPUTS_DIR', value: '/roam/inputs' },
    ]);
    expect(fetcher.volumeMounts).toEqual([{ name: 'roam-work', mountPath: '/roam' }]);
  });
});

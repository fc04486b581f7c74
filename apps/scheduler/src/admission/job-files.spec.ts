import { describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';

import { DEPS_CONTAINER, INPUTS_CONTAINER, RESULTS_CONTAINER } from '@roam/object-store';

import { type JobFiles, RESULTS_CLAIM } from './job-files.js';
import { jobManifest } from './job-manifest.js';

const ID = '01930000-0000-7000-8000-000000000001';

const podOf = (files?: JobFiles) =>
  jobManifest({
    id: ID,
    tenantId: 'city-a',
    namespace: 'roam-city-a',
    name: 'sim',
    attempt: 1,
    spec: jobSpecSchema.parse({ image: 'sumo', command: ['sh', '-c', 'true'] }),
    defaultMaxDurationSeconds: 60,
    ...(files ? { files } : {}),
  }).spec.template.spec as unknown as {
    volumes: unknown[];
    initContainers?: {
      name: string;
      image: string;
      restartPolicy?: string;
      env: { name: string; value: string }[];
      volumeMounts: unknown[];
      resources: unknown;
    }[];
    containers: { volumeMounts: unknown[] }[];
  };

describe('the files side of the Job manifest', () => {
  it('adds no helper to a job when nothing keeps files, but still gives it /roam', () => {
    const pod = podOf();
    expect(pod).not.toHaveProperty('initContainers');
    expect(pod.volumes).toEqual([{ name: 'roam-work', emptyDir: { sizeLimit: '10Gi' } }]);
    expect(pod.containers[0]!.volumeMounts).toEqual([{ name: 'roam-work', mountPath: '/roam' }]);
  });

  it('in kueue mode reads every URL from the pod annotations the AdmissionCheck fills', () => {
    const pod = podOf({
      urlsAtAdmission: true,
      inputs: { format: 'zip', image: 'busybox:1.36' },
      deps: { image: 'busybox:1.36' },
      results: { image: 'curl' },
    });
    const fromAnnotation = (annotation: string) => ({
      fieldRef: { fieldPath: `metadata.annotations['${annotation}']` },
    });
    const env = (name: string) =>
      Object.fromEntries(
        (pod.initContainers?.find((c) => c.name === name)?.env ?? []).map((e) => [
          e.name,
          'value' in e ? e.value : (e as unknown as { valueFrom: unknown }).valueFrom,
        ]),
      );
    expect(env(INPUTS_CONTAINER).ROAM_INPUTS_URL).toEqual(fromAnnotation('roam.dev/inputs-url'));
    expect(env(DEPS_CONTAINER)).toMatchObject({
      ROAM_DEPS_ERROR: fromAnnotation('roam.dev/deps-error'),
      ROAM_DEPS_MANIFEST_URL: fromAnnotation('roam.dev/deps-manifest-url'),
    });
    expect(env(RESULTS_CONTAINER).ROAM_RESULTS_UPLOAD_URL).toEqual(
      fromAnnotation('roam.dev/results-upload-url'),
    );
  });

  it('unpacks the archive from its presigned URL into ROAM_INPUTS_DIR before main starts', () => {
    const pod = podOf({
      inputs: {
        url: 'http://s3/roam/in.zip?X-Amz-Signature=abc',
        format: 'zip',
        image: 'busybox:1.36',
      },
    });
    expect(pod.initContainers).toHaveLength(1);
    const fetcher = pod.initContainers![0]!;
    expect(fetcher.name).toBe(INPUTS_CONTAINER);
    expect(fetcher.image).toBe('busybox:1.36');
    expect(fetcher.env).toEqual([
      { name: 'ROAM_INPUTS_URL', value: 'http://s3/roam/in.zip?X-Amz-Signature=abc' },
      { name: 'ROAM_INPUTS_FORMAT', value: 'zip' },
      { name: 'ROAM_INPUTS_DIR', value: '/roam/inputs' },
    ]);
    expect(fetcher.volumeMounts).toEqual([{ name: 'roam-work', mountPath: '/roam' }]);
  });

  it('uploads results through a native sidecar that requests nothing', () => {
    const pod = podOf({
      results: { uploadUrl: 'http://s3/roam/up?X-Amz-Signature=def', image: 'curl:1' },
    });
    const [sidecar] = pod.initContainers!;
    expect(sidecar).toMatchObject({
      name: RESULTS_CONTAINER,
      image: 'curl:1',
      restartPolicy: 'Always',
      env: [
        { name: 'ROAM_RESULTS_UPLOAD_URL', value: 'http://s3/roam/up?X-Amz-Signature=def' },
        { name: 'ROAM_RESULTS_DIR', value: '/roam/results' },
      ],
      volumeMounts: [{ name: 'roam-work', mountPath: '/roam' }],
      resources: {
        requests: { cpu: '0', memory: '0', 'ephemeral-storage': '1Gi' },
        limits: { 'ephemeral-storage': '1Gi' },
      },
    });
  });

  it('bounds the node disk of the work volume and of every helper', () => {
    const pod = podOf({
      inputs: { url: 'http://s3/in.zip', format: 'zip', image: 'busybox:1.36' },
      results: { uploadUrl: 'http://s3/up', image: 'curl:1' },
      disk: { workSizeLimit: '3Gi', helperEphemeralStorage: '512Mi' },
    });
    expect(pod.volumes).toEqual([{ name: 'roam-work', emptyDir: { sizeLimit: '3Gi' } }]);
    expect(pod.initContainers!.map((c) => c.resources)).toEqual([
      expect.objectContaining({
        requests: expect.objectContaining({ 'ephemeral-storage': '512Mi' }),
        limits: expect.objectContaining({ 'ephemeral-storage': '512Mi' }),
      }),
      expect.objectContaining({
        requests: expect.objectContaining({ 'ephemeral-storage': '512Mi' }),
        limits: expect.objectContaining({ 'ephemeral-storage': '512Mi' }),
      }),
    ]);
  });

  it('in PVC mode mounts the tenant claim at the results directory and reads inputs from it', () => {
    const pod = podOf({
      claim: RESULTS_CLAIM,
      inputs: { file: `inputs/${ID}/inputs.zip`, format: 'zip', image: 'busybox:1.36' },
    });
    expect(pod.volumes).toContainEqual({
      name: 'roam-results-volume',
      persistentVolumeClaim: { claimName: 'roam-results' },
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'roam-results-volume',
      mountPath: '/roam/results',
      subPath: `results/${ID}`,
    });
    const fetcher = pod.initContainers![0]!;
    expect(fetcher.env[0]).toEqual({
      name: 'ROAM_INPUTS_FILE',
      value: `/roam-volume/inputs/${ID}/inputs.zip`,
    });
    expect(fetcher.volumeMounts).toContainEqual({
      name: 'roam-results-volume',
      mountPath: '/roam-volume',
      readOnly: true,
    });
  });

  it('runs the dependencies fetcher after the inputs one, with the manifest URL or the reason to fail', () => {
    const pod = podOf({
      inputs: { url: 'http://s3/in.zip', format: 'zip', image: 'busybox:1.36' },
      deps: {
        manifestUrl: 'http://s3/deps-attempt-1.txt?X-Amz-Signature=abc',
        image: 'busybox:1.36',
      },
    });
    expect(pod.initContainers!.map((c) => c.name)).toEqual([INPUTS_CONTAINER, DEPS_CONTAINER]);
    const deps = pod.initContainers![1]!;
    expect(deps.env).toEqual([
      { name: 'ROAM_DEPS_MANIFEST_URL', value: 'http://s3/deps-attempt-1.txt?X-Amz-Signature=abc' },
      { name: 'ROAM_INPUTS_DIR', value: '/roam/inputs' },
    ]);
    expect(deps.volumeMounts).toEqual([{ name: 'roam-work', mountPath: '/roam' }]);

    const refused = podOf({ deps: { error: 'too many files', image: 'busybox:1.36' } });
    expect(refused.initContainers![0]!.env[0]).toEqual({
      name: 'ROAM_DEPS_ERROR',
      value: 'too many files',
    });
  });
});

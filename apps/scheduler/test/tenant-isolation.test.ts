import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@roam/kube';
import { eventually } from '@roam/testing';

import {
  ADMIN_TOKEN,
  call,
  type Harness,
  register,
  startHarness,
} from '../../../test/support/harness.js';
import { NETWORK_POLICY_NAME } from '../src/tenants/tenant-isolation.js';

type Policy = KubernetesObject & {
  spec: {
    podSelector: object;
    policyTypes: string[];
    ingress: { from: object[] }[];
    egress: { to: { ipBlock?: { cidr: string; except?: string[] } }[]; ports?: object[] }[];
  };
};

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
const policyOf = (namespace: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  name: NETWORK_POLICY_NAME,
  namespace,
});

describe('tenant namespaces are isolated', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('tenant_isolation', {
      TENANT_EGRESS_DENY_CIDRS: '10.0.0.0/8,192.168.0.0/16',
      TENANT_EGRESS_ALLOW_CIDRS: '10.20.0.5',
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  const ready = (tenantId: string) =>
    eventually(
      `${tenantId} to be ready`,
      async () =>
        (await h.prisma.tenant.findUnique({ where: { id: tenantId } }))?.status === 'ready',
    );

  it('labels the namespace with Pod Security levels and writes its NetworkPolicy; deletion removes both', async () => {
    await register(h.url, 'walled');
    await ready('walled');

    const namespace = await h.kube.get<KubernetesObject>(ns('roam-walled'));
    expect(namespace?.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });

    const policy = await h.kube.get<Policy>(policyOf('roam-walled'));
    expect(policy?.spec.podSelector).toEqual({});
    expect(policy?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // Ingress only from the namespace's own pods: no namespaceSelector, no ipBlock.
    expect(policy?.spec.ingress).toEqual([{ from: [{ podSelector: {} }] }]);
    const blocks = policy!.spec.egress.flatMap((rule) => rule.to.map((peer) => peer.ipBlock));
    expect(blocks).toContainEqual({
      cidr: '0.0.0.0/0',
      except: ['10.0.0.0/8', '192.168.0.0/16', '169.254.169.254/32'],
    });
    expect(blocks).toContainEqual({ cidr: '10.20.0.5/32' });
    const dns = policy!.spec.egress.find((rule) => rule.ports !== undefined);
    expect(dns?.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);

    expect(
      (await call(h.url, 'DELETE', '/api/v1/tenants/walled', undefined, ADMIN_TOKEN)).status,
    ).toBe(202);
    await eventually(
      'the tenant to be deleted',
      async () => (await h.prisma.tenant.count({ where: { id: 'walled' } })) === 0,
    );
    expect(await h.kube.get(ns('roam-walled'))).toBeUndefined();
    expect(await h.kube.get(policyOf('roam-walled'))).toBeUndefined();
  });

  it('labels a namespace it adopts, and restores a policy someone removed', async () => {
    await register(h.url, 'adopted');
    await ready('adopted');
    await h.kube.mergePatch(ns('roam-adopted'), {
      metadata: {
        name: 'roam-adopted',
        labels: { 'pod-security.kubernetes.io/enforce': 'privileged' },
      },
    });
    await h.kube.delete(policyOf('roam-adopted'));
    // An admin's tenant update makes the scheduler provision it again.
    const patched = await call(
      h.url,
      'PATCH',
      '/api/v1/tenants/adopted',
      { max_concurrent_jobs: 7 },
      ADMIN_TOKEN,
    );
    expect(patched.status).toBe(200);
    await eventually('the policy and the label to be back', async () => {
      const namespace = await h.kube.get<KubernetesObject>(ns('roam-adopted'));
      return (
        namespace?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] === 'baseline' &&
        (await h.kube.get(policyOf('roam-adopted'))) !== undefined
      );
    });
  });
});

import { describe, expect, it } from '@jest/globals';

import { podSecurityLabels, tenantIsolationOf, tenantNetworkPolicy } from './tenant-isolation.js';

const config = {
  TENANT_NETWORK_POLICY: true,
  TENANT_EGRESS_DENY_CIDRS: '10.0.0.0/8, fd00::/8,192.168.1.1',
  TENANT_POD_SECURITY_ENFORCE: 'baseline' as const,
  TENANT_POD_SECURITY_WARN: 'restricted' as const,
};

describe('tenant isolation', () => {
  it('always denies the metadata address, and splits the denied ranges by family', () => {
    const isolation = tenantIsolationOf(config);
    expect(isolation.denyCidrs).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.1/32',
      '169.254.169.254/32',
    ]);
    const policy = tenantNetworkPolicy('roam-a', {}, isolation) as {
      spec: { egress: { to: { ipBlock?: unknown }[] }[] };
    };
    const blocks = policy.spec.egress.flatMap((rule) => rule.to.map((peer) => peer.ipBlock));
    expect(blocks).toContainEqual({
      cidr: '0.0.0.0/0',
      except: ['10.0.0.0/8', '192.168.1.1/32', '169.254.169.254/32'],
    });
    expect(blocks).toContainEqual({ cidr: '::/0', except: ['fd00::/8'] });
  });

  it('labels enforce with one level, warn and audit with the other', () => {
    expect(podSecurityLabels(tenantIsolationOf(config))).toEqual({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });
});

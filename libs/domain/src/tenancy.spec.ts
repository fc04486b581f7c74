import { describe, expect, it } from '@jest/globals';

import { generateApiKey, hashApiKey, looksLikeApiKey, secretsEqual } from './api-keys.js';
import { TokenBuckets } from './rate-limit.js';
import {
  containerLimits,
  type EphemeralStoragePolicy,
  namespaceFor,
  namespaceOwnershipProblem,
  quotaHard,
  tenantIdProblem,
} from './tenancy.js';

const disk: EphemeralStoragePolicy = {
  defaultRequest: '256Mi',
  defaultLimit: '2Gi',
  max: '10Gi',
  perJob: '20Gi',
};

describe('tenant ids', () => {
  it.each(['a', 'city-a', 'x1', 'a'.repeat(58)])('accepts %p', (id) => {
    expect(tenantIdProblem(id)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(59), 'at most 58'],
    ['City', 'DNS-1123'],
    ['-a', 'DNS-1123'],
    ['a-', 'DNS-1123'],
    ['a_b', 'DNS-1123'],
    ['a.b', 'DNS-1123'],
    ['admin', 'reserved'],
    ['me', 'reserved'],
    ['kube-foo', 'reserved'],
  ])('rejects %p (%s)', (id, why) => {
    expect(tenantIdProblem(id)).toContain(why);
  });

  it('names namespaces roam-<tenant>', () => {
    expect(namespaceFor('city-a')).toBe('roam-city-a');
  });
});

describe('quotaHard', () => {
  it('has SUMO-K8 keys plus GPU and node disk per concurrent job', () => {
    expect(
      quotaHard(
        { cpuMillis: 10_000, memoryBytes: 20 * 2 ** 30, gpu: 2, maxConcurrentJobs: 3 },
        disk,
      ),
    ).toEqual({
      'requests.cpu': '10',
      'requests.memory': '20Gi',
      'requests.nvidia.com/gpu': '2',
      'requests.ephemeral-storage': '60Gi',
      'limits.ephemeral-storage': '60Gi',
      pods: '10',
    });
    expect(
      quotaHard({ cpuMillis: 1500, memoryBytes: 2 ** 29, gpu: 0, maxConcurrentJobs: 8 }, disk).pods,
    ).toBe('16');
  });
});

describe('containerLimits', () => {
  it('gives containers default disk requests and limits, and a ceiling', () => {
    expect(containerLimits(disk)).toEqual({
      type: 'Container',
      defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '256Mi' },
      default: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '2Gi' },
      max: { 'ephemeral-storage': '10Gi' },
    });
  });
});

describe('namespaceOwnershipProblem', () => {
  const ours = { 'app.kubernetes.io/managed-by': 'roam', 'roam.dev/tenant': 'city-a' };

  it('adopts only a namespace roam made for this tenant', () => {
    expect(namespaceOwnershipProblem('roam-city-a', ours, 'city-a')).toBeUndefined();
  });

  it.each([
    ['no labels', undefined, 'not labelled'],
    ['someone else', { team: 'payments' }, 'not labelled'],
    ['only the tenant label', { 'roam.dev/tenant': 'city-a' }, 'not labelled'],
    ['another tenant', { ...ours, 'roam.dev/tenant': 'city-b' }, 'tenant "city-b"'],
  ])('refuses a namespace with %s', (_, labels, why) => {
    const problem = namespaceOwnershipProblem('roam-city-a', labels, 'city-a');
    expect(problem).toContain('roam-city-a');
    expect(problem).toContain(why);
  });
});

describe('API keys', () => {
  it('look like SUMO-K8 keys, carry 256 bits, and hash deterministically', () => {
    const { key, hash, prefix } = generateApiKey();
    expect(key).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(looksLikeApiKey(key)).toBe(true);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).not.toContain(key.slice(3));
    expect(key.startsWith(prefix)).toBe(true);
    expect(generateApiKey().key).not.toBe(key);
  });

  it('marks admin keys', () => {
    const { key } = generateApiKey('admin');
    expect(key.startsWith('sk-admin-')).toBe(true);
    expect(looksLikeApiKey(key)).toBe(true);
  });

  it.each(['', 'sk-', 'Bearer x', 'sk-short', `sk-${'a'.repeat(42)}!`])(
    'rejects junk %p before any lookup',
    (token) => {
      expect(looksLikeApiKey(token)).toBe(false);
    },
  );

  it('compares secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});

describe('TokenBuckets', () => {
  it('allows a burst, then refuses until tokens refill', () => {
    const buckets = new TokenBuckets();
    const decisions = Array.from({ length: 4 }, () => buckets.take('t', 1, 3, 0));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toMatchObject({ remaining: 0, retryAfterSeconds: 1, limit: 3 });
    expect(buckets.take('t', 1, 3, 1000).allowed).toBe(true);
    expect(buckets.take('t', 1, 3, 1000).allowed).toBe(false);
  });

  it('keeps tenants apart', () => {
    const buckets = new TokenBuckets();
    expect(buckets.take('a', 1, 1, 0).allowed).toBe(true);
    expect(buckets.take('a', 1, 1, 0).allowed).toBe(false);
    expect(buckets.take('b', 1, 1, 0).allowed).toBe(true);
  });

  it('tells whether a request would pass without taking a token', () => {
    const buckets = new TokenBuckets();
    expect(buckets.wouldAllow('t', 1, 1, 0)).toBe(true);
    expect(buckets.take('t', 1, 1, 0).allowed).toBe(true);
    expect(buckets.wouldAllow('t', 1, 1, 0)).toBe(false);
    expect(buckets.wouldAllow('t', 1, 1, 0)).toBe(false);
    expect(buckets.wouldAllow('t', 1, 1, 1000)).toBe(true);
    expect(buckets.take('t', 1, 1, 1000).allowed).toBe(true);
  });

  it('forgets the least recently used key past its size', () => {
    const buckets = new TokenBuckets(2);
    buckets.take('a', 1, 1, 0);
    buckets.take('b', 1, 1, 0);
    buckets.take('c', 1, 1, 0);
    expect(buckets.take('a', 1, 1, 0).allowed).toBe(true);
  });
});

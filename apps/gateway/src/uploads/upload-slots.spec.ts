import { describe, expect, it } from '@jest/globals';
import type { GatewayConfig } from '@roam/config';
import { ProblemError } from '@roam/runtime';

import { UploadSlots } from './upload-slots.js';

const slots = (perTenant: number, perReplica: number) =>
  new UploadSlots({
    UPLOADS_PER_TENANT: perTenant,
    UPLOADS_PER_REPLICA: perReplica,
  } as GatewayConfig);

const refusal = (claim: () => unknown): ProblemError => {
  try {
    claim();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('the claim was not refused');
};

describe('UploadSlots', () => {
  it('refuses a tenant beyond UPLOADS_PER_TENANT with 429 and Retry-After, not the others', () => {
    const uploads = slots(2, 8);
    uploads.claim('a');
    uploads.claim('a');
    const refused = refusal(() => uploads.claim('a'));
    expect(refused.status).toBe(429);
    expect(refused.headers['Retry-After']).toMatch(/^\d+$/);
    expect(refused.message).toMatch(/UPLOADS_PER_TENANT=2/);
    expect(refused.extensions).toEqual({ uploads: 2, limit: 2 });
    uploads.claim('b');
    expect([uploads.count('a'), uploads.count('b'), uploads.count()]).toEqual([2, 1, 3]);
  });

  it('refuses anyone beyond UPLOADS_PER_REPLICA, whichever tenants hold the slots', () => {
    const uploads = slots(2, 3);
    uploads.claim('a');
    uploads.claim('b');
    uploads.claim('c');
    const refused = refusal(() => uploads.claim('d'));
    expect(refused.status).toBe(429);
    expect(refused.message).toMatch(/UPLOADS_PER_REPLICA=3/);
    expect(uploads.count('d')).toBe(0);
    expect(uploads.count()).toBe(3);
  });

  it('gives a slot back on release, once however often it is released', () => {
    const uploads = slots(1, 2);
    const first = uploads.claim('a');
    expect(refusal(() => uploads.claim('a')).status).toBe(429);
    first.release();
    first.release();
    expect([uploads.count('a'), uploads.count()]).toEqual([0, 0]);
    const second = uploads.claim('a');
    uploads.claim('b');
    // A double release of the old slot must not free the one held now.
    first.release();
    expect(refusal(() => uploads.claim('a')).status).toBe(429);
    expect(refusal(() => uploads.claim('c')).message).toMatch(/UPLOADS_PER_REPLICA/);
    second.release();
    expect(uploads.count()).toBe(1);
  });
});

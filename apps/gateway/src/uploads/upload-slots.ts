import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { APP_CONFIG, ProblemError, problemTypes } from '@roam/runtime';

/** How long a refused upload is told to wait before trying again. */
export const UPLOAD_RETRY_AFTER_SECONDS = 10;

/** One upload's claim on its tenant's and the replica's allowance. */
export interface UploadSlot {
  /** Gives the slot back; idempotent. */
  release(): void;
}

/**
 * The job uploads in flight on this gateway replica. Each stages up to MAX_FILE_SIZE_MB on
 * `/tmp`, so at most UPLOADS_PER_TENANT per tenant and UPLOADS_PER_REPLICA in all are let in:
 * the staging volume is sized for the second, and one tenant cannot take all of it. A claim
 * beyond either is a 429 with `Retry-After`, taken before any byte of the body is read.
 */
@Injectable()
export class UploadSlots {
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  /** Uploads in flight: of one tenant, or of every tenant. */
  count(tenantId?: string): number {
    return tenantId === undefined ? this.total : (this.byTenant.get(tenantId) ?? 0);
  }

  /** Claims a slot for an upload about to be read, or throws 429. Release it however it ends. */
  claim(tenantId: string): UploadSlot {
    const mine = this.count(tenantId);
    const perTenant = this.config.UPLOADS_PER_TENANT;
    const perReplica = this.config.UPLOADS_PER_REPLICA;
    if (mine >= perTenant) {
      throw this.refused(
        `tenant ${tenantId} has ${mine} uploads in progress on this gateway, the most allowed (UPLOADS_PER_TENANT=${perTenant})`,
        { uploads: mine, limit: perTenant },
      );
    }
    if (this.total >= perReplica) {
      throw this.refused(
        `this gateway has ${this.total} uploads in progress, the most it takes at once (UPLOADS_PER_REPLICA=${perReplica})`,
        { uploads: this.total, limit: perReplica },
      );
    }
    this.byTenant.set(tenantId, mine + 1);
    this.total += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.byTenant.get(tenantId) ?? 1) - 1;
        if (left > 0) this.byTenant.set(tenantId, left);
        else this.byTenant.delete(tenantId);
      },
    };
  }

  private refused(why: string, extensions: Record<string, unknown>): ProblemError {
    return new ProblemError(
      429,
      problemTypes.rateLimited,
      'Too many uploads in progress',
      `${why}; retry in ${UPLOAD_RETRY_AFTER_SECONDS} s`,
      extensions,
      { 'Retry-After': String(UPLOAD_RETRY_AFTER_SECONDS) },
    );
  }
}

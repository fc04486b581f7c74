import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ProblemError } from '@roam/runtime';

import { AuthService, TENANT_DELETING } from '../auth/auth.service.js';
import { OpenStreams } from './open-streams.js';

/**
 * Ties open streams to the keys they were opened with: a key that no longer authenticates
 * (revoked, tenant being deleted) ends its streams. Revocations through this replica are seen
 * once they commit (the auth service's revocation listeners), the rest by the streams'
 * periodic check.
 */
@Injectable()
export class StreamKeyWatch implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly streams: OpenStreams,
    private readonly auth: AuthService,
  ) {}

  onModuleInit(): void {
    this.streams.checkKeysWith(async (authorization) => {
      try {
        await this.auth.authenticate(authorization);
        return undefined;
      } catch (error) {
        if (error instanceof ProblemError && error.status === 401) return error.message;
        throw error;
      }
    });
    this.unsubscribe = this.auth.onRevocation((revocation) => {
      // A tenant's streams end at once saying why; the re-check catches one that was opening
      // as the deletion committed (its key read as active a moment before).
      if (revocation.kind === 'tenant')
        this.streams.closeTenant(revocation.tenantId, TENANT_DELETING);
      this.streams.recheck();
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}

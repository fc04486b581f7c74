import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { APP_CONFIG, LOGGER, Loop, ProblemError, problemTypes } from '@roam/runtime';
import type { Logger } from 'pino';

/** How long a refused stream is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Asks whether the credentials a stream was opened with still hold: resolves to why not (the
 * sentence a closing stream shows), or undefined while they do. Rejects when it cannot tell
 * (database down): the stream is then kept and checked again later.
 */
export type StreamKeyCheck = (authorization: string) => Promise<string | undefined>;

/** One open stream's claim on its tenant's allowance. */
export interface StreamSlot {
  /** Aborted when the stream must end: its key was revoked or its tenant deleted. */
  readonly signal: AbortSignal;
  /** Why `signal` was aborted, for the stream's final event or line. */
  readonly closedBecause: string | undefined;
  /** Gives the slot back; idempotent. */
  release(): void;
}

interface Slot extends StreamSlot {
  tenantId: string;
  authorization: string;
  close(reason: string): void;
}

/**
 * The long-lived responses of this gateway replica (event SSE, log SSE, log follows), per
 * tenant. A tenant holds at most STREAMS_PER_TENANT at once (the rest answer 429), so one
 * tenant cannot exhaust the replica's sockets, memory or Kubernetes log connections.
 *
 * Every open stream is re-checked against the credentials it was opened with: at once when
 * this replica revokes a key or changes a tenant (`recheck()`), and every
 * STREAM_KEY_CHECK_SECONDS for changes made through other replicas. One check per distinct
 * key, through the auth cache, whatever the number of streams.
 */
@Injectable()
export class OpenStreams implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly byTenant = new Map<string, Set<Slot>>();
  private check: StreamKeyCheck | undefined;
  private readonly checks: Loop;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.checks = new Loop({
      name: 'stream key check',
      intervalMs: config.STREAM_KEY_CHECK_SECONDS * 1000,
      logger,
      pass: () => this.checkAll(),
    });
  }

  onApplicationBootstrap(): void {
    this.checks.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.checks.stop();
  }

  /** Installs how keys are re-checked (the auth service, wired by `StreamKeyWatch`). */
  checkKeysWith(check: StreamKeyCheck): void {
    this.check = check;
  }

  /** Open streams of a tenant on this replica. */
  count(tenantId: string): number {
    return this.byTenant.get(tenantId)?.size ?? 0;
  }

  /**
   * Claims a slot for a stream about to open, or throws 429 (nothing is opened then). The
   * caller releases it when the response ends, however it ends.
   */
  open(tenantId: string, authorization: string | undefined): StreamSlot {
    const open = this.byTenant.get(tenantId) ?? new Set<Slot>();
    const limit = this.config.STREAMS_PER_TENANT;
    if (open.size >= limit) {
      throw new ProblemError(
        429,
        problemTypes.rateLimited,
        'Too many open streams',
        `tenant ${tenantId} has ${open.size} streams open on this gateway, the most allowed (STREAMS_PER_TENANT=${limit}); close one or retry in ${RETRY_AFTER_SECONDS} s`,
        { open_streams: open.size, limit },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    this.byTenant.set(tenantId, open);
    const controller = new AbortController();
    let reason: string | undefined;
    const slot: Slot = {
      tenantId,
      authorization: authorization ?? '',
      signal: controller.signal,
      get closedBecause() {
        return reason;
      },
      close(why) {
        reason ??= why;
        controller.abort(why);
      },
      release: () => {
        open.delete(slot);
        if (open.size === 0 && this.byTenant.get(tenantId) === open) this.byTenant.delete(tenantId);
      },
    };
    open.add(slot);
    return slot;
  }

  /**
   * Ends every open stream of a tenant at once, with `reason`. Used when the tenant's deletion
   * committed on this replica: its keys may be gone before a re-check would run, and the
   * stream should say why it ended, not that its key is unknown.
   */
  closeTenant(tenantId: string, reason: string): void {
    for (const slot of this.byTenant.get(tenantId) ?? []) {
      this.logger.info({ tenantId, reason }, 'closing stream');
      slot.close(reason);
    }
  }

  /**
   * Re-checks every open stream's key now. A check under way is followed by another, so a
   * revocation committed while one runs is still seen.
   */
  recheck(): void {
    this.checks.wake();
  }

  private async checkAll(): Promise<void> {
    const check = this.check;
    if (!check) return;
    const byKey = new Map<string, Slot[]>();
    for (const open of this.byTenant.values()) {
      for (const slot of open) {
        const slots = byKey.get(slot.authorization) ?? [];
        slots.push(slot);
        byKey.set(slot.authorization, slots);
      }
    }
    for (const [authorization, slots] of byKey) {
      let reason: string | undefined;
      try {
        reason = await check(authorization);
      } catch (error) {
        this.logger.warn({ err: error }, 'stream key check failed; streams kept');
        continue;
      }
      if (reason === undefined) continue;
      for (const slot of slots) {
        this.logger.info({ tenantId: slot.tenantId, reason }, 'closing stream');
        slot.close(reason);
      }
    }
  }
}

/** Provides the one `OpenStreams` of the gateway to every module that opens streams. */
@Module({ providers: [OpenStreams], exports: [OpenStreams] })
export class OpenStreamsModule {}

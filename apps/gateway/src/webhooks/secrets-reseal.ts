import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type GatewayConfig, SEALED_PREFIX, SecretBox } from '@roam/config';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import { metrics } from '@roam/telemetry';
import { webhookSecretContext } from '@roam/webhooks';
import type { Logger } from 'pino';

import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import {
  idempotentResponseContext,
  SEALED_FIELD,
  sealedText,
} from '../idempotency/idempotency.service.js';
import { WebhooksRepository } from './webhooks.repository.js';

const BATCH = 200;

export interface ResealOutcome {
  resealed: number;
  /** Rows whose value does not open (key not configured, altered text): left as they are. */
  unreadable: number;
}

/**
 * Re-encrypts secrets at rest that are not sealed under the primary key of ROAM_SECRETS_KEYS:
 * plaintext rows from before encryption, and rows under a key being rotated out. Each pass
 * walks both tables in keyset batches; a row is selected only while it still needs work, so a
 * pass cut short (restart, failure) resumes where it stopped. Each update is conditional on
 * the value read, so a concurrent rotation or request always wins over the pass, and several
 * gateways may run it at once. docs/security.md, "Secrets at rest".
 */
@Injectable()
export class SecretsReseal implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;
  private readonly prefix: string;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly box: SecretBox,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.prefix = `${SEALED_PREFIX}${box.primaryId}:`;
    this.loop = new Loop({
      name: 'secrets re-encryption',
      intervalMs: config.SECRETS_RESEAL_INTERVAL_MS,
      runAtStart: true,
      logger,
      pass: (signal) => this.pass(signal),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass over both tables; also what tests call. */
  async pass(signal?: AbortSignal): Promise<ResealOutcome> {
    const outcome: ResealOutcome = { resealed: 0, unreadable: 0 };
    await this.webhookSecrets(outcome, signal);
    await this.idempotentResponses(outcome, signal);
    metrics.secretsUnreadable.set(outcome.unreadable);
    if (outcome.resealed > 0 || outcome.unreadable > 0) {
      this.logger.info(
        { ...outcome, primaryKeyId: this.box.primaryId },
        'secrets re-encrypted under the primary key',
      );
    }
    return outcome;
  }

  private reseal(text: string, context: string): string {
    return this.box.seal(this.box.open(text, context), context);
  }

  private async webhookSecrets(outcome: ResealOutcome, signal?: AbortSignal): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      if (signal?.aborted) return;
      const rows = await this.webhooks.secretsToReseal(after, this.prefix, BATCH);
      for (const row of rows) {
        after = row.id;
        const context = webhookSecretContext(row.id);
        try {
          const next = {
            secret: this.box.needsReseal(row.secret)
              ? this.reseal(row.secret, context)
              : row.secret,
            previousSecret:
              row.previousSecret !== null && this.box.needsReseal(row.previousSecret)
                ? this.reseal(row.previousSecret, context)
                : row.previousSecret,
          };
          if (await this.webhooks.replaceSecrets(row, next)) {
            outcome.resealed += 1;
            metrics.secretsResealed.inc({ table: 'webhook_endpoints' });
          }
        } catch (error) {
          outcome.unreadable += 1;
          this.logger.error(
            { err: error, endpointId: row.id },
            'webhook secret cannot be decrypted',
          );
        }
      }
      if (rows.length < BATCH) return;
    }
  }

  private async idempotentResponses(outcome: ResealOutcome, signal?: AbortSignal): Promise<void> {
    let after = { principal: '', key: '' };
    for (;;) {
      if (signal?.aborted) return;
      const rows = await this.idempotency.responsesToReseal(after, this.prefix, BATCH);
      for (const row of rows) {
        after = { principal: row.principal, key: row.key };
        const context = idempotentResponseContext(row.principal, row.key);
        try {
          const sealed = sealedText(row.responseBody);
          const next =
            sealed === undefined
              ? this.box.seal(JSON.stringify(row.responseBody ?? null), context)
              : this.reseal(sealed, context);
          if (await this.idempotency.replaceResponse(row, { [SEALED_FIELD]: next })) {
            outcome.resealed += 1;
            metrics.secretsResealed.inc({ table: 'idempotency_keys' });
          }
        } catch (error) {
          outcome.unreadable += 1;
          this.logger.error(
            { err: error, principal: row.principal },
            'stored idempotent response cannot be decrypted',
          );
        }
      }
      if (rows.length < BATCH) return;
    }
  }
}

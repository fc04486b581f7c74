import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { CommonConfig } from '@roam/config';
import { streams, type StreamName } from '@roam/contracts';
import type { PrismaClient } from '@roam/db';
import { JetStreamConnection } from '@roam/messaging';
import { collectProcessMetrics, metrics, metricsRegistry } from '@roam/telemetry';
import type { Logger } from 'pino';

import { HealthService } from './health.controller.js';
import { Loop, type LoopHealth } from './loop.js';
import { ApiOperation } from './openapi.js';
import { Public } from './public.js';
import { APP_CONFIG, LOGGER, PRISMA } from './tokens.js';

/** Prometheus text exposition of this process's registry, on the app's own HTTP port. */
@Public()
@Controller('metrics')
export class MetricsController {
  @ApiOperation({
    summary: 'Prometheus metrics of this process',
    description: 'Text exposition format; the catalogue is in docs/observability.md.',
    tags: ['health'],
    responses: { 200: { contentType: 'text/plain', description: 'Prometheus text format 0.0.4' } },
  })
  @Get()
  @Header('content-type', metricsRegistry.contentType)
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return metricsRegistry.metrics();
  }
}

/**
 * Runs `sample` every METRICS_SAMPLE_INTERVAL_MS (and once at boot) on a `Loop`; stops before
 * the connections close. A failed sample keeps the previous values.
 */
abstract class PeriodicSampler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;

  constructor(name: string, intervalMs: number, logger: Logger) {
    this.loop = new Loop({
      name,
      intervalMs,
      runAtStart: true,
      failureLevel: 'debug',
      logger,
      pass: () => this.sample(),
    });
  }

  protected abstract sample(): Promise<void>;

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }
}

/** This app's consumer lag (JetStream consumer info) and the outbox backlog. */
@Injectable()
export class RuntimeMetricsSampler extends PeriodicSampler {
  constructor(
    @Inject(APP_CONFIG) config: CommonConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly connection: JetStreamConnection,
    private readonly readiness: HealthService,
  ) {
    super('runtime metrics sample', config.METRICS_SAMPLE_INTERVAL_MS, logger);
  }

  protected async sample(): Promise<void> {
    this.loops();
    await Promise.all([this.consumers(), this.outbox()]);
  }

  /** `roam_loop_*` for every timer loop of this app (the same list readiness reports). */
  private loops(): void {
    const loops = this.readiness.loops();
    metrics.loopConsecutiveFailures.reset();
    metrics.loopLastSuccess.reset();
    for (const loop of loops) {
      const labels = { loop: loop.name };
      metrics.loopConsecutiveFailures.set(labels, loop.consecutiveFailures);
      metrics.loopLastSuccess.set(labels, (loop.lastSuccessAt?.getTime() ?? 0) / 1000);
    }
  }

  private async consumers(): Promise<void> {
    const { name, subjects } = this.connection.options;
    const rows: { stream: string; consumer: string; pending: number; ackPending: number }[] = [];
    for (const stream of Object.keys(streams) as StreamName[]) {
      const streamName = subjects.streamName(stream);
      for await (const info of this.connection.manager.consumers.list(streamName)) {
        // Each app reports its own durables (`<app>_<subject>`), so no series is counted twice.
        if (!info.name.startsWith(`${name}_`)) continue;
        rows.push({
          stream: streamName,
          consumer: info.name,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
        });
      }
    }
    metrics.consumerPending.reset();
    metrics.consumerAckPending.reset();
    for (const row of rows) {
      const labels = { stream: row.stream, consumer: row.consumer };
      metrics.consumerPending.set(labels, row.pending);
      metrics.consumerAckPending.set(labels, row.ackPending);
    }
  }

  private async outbox(): Promise<void> {
    const [row] = await this.prisma.$queryRaw<{ backlog: bigint; oldest: Date | null }[]>`
      SELECT count(*) AS backlog, min(created_at) AS oldest
      FROM outbox_messages WHERE published_at IS NULL`;
    metrics.outboxBacklog.set(Number(row?.backlog ?? 0));
    metrics.outboxOldestAge.set(
      row?.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
    );
  }
}

/**
 * `roam_jobs{status,tenant}` from one grouped COUNT. Exactly one app registers it (the
 * reconciler), so replicas of the other apps do not report the same jobs again.
 */
@Injectable()
export class JobCountsSampler extends PeriodicSampler {
  constructor(
    @Inject(APP_CONFIG) config: CommonConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
  ) {
    super('job counts sample', config.METRICS_SAMPLE_INTERVAL_MS, logger);
  }

  protected async sample(): Promise<void> {
    const groups = await this.prisma.job.groupBy({
      by: ['status', 'tenantId'],
      _count: { _all: true },
    });
    // Reset and refill without an await between, so a scrape never sees half a sample and a
    // (status, tenant) pair that dropped to zero disappears.
    metrics.jobs.reset();
    for (const group of groups)
      metrics.jobs.set({ status: group.status, tenant: group.tenantId }, group._count._all);
  }
}

/** `/metrics` and the runtime's sampled gauges; every app gets it from `createRoamApp`. */
@Module({ controllers: [MetricsController], providers: [RuntimeMetricsSampler] })
export class MetricsModule {
  constructor() {
    collectProcessMetrics();
  }
}

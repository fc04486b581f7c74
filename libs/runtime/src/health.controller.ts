import { Controller, Get, HttpCode, Inject, Injectable, Optional } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { PrismaClient } from '@roam/db';
import { type ConsumerHealth, JetStreamConnection } from '@roam/messaging';
import { z } from 'zod';

import type { LoopHealth } from './loop.js';
import { ApiOperation } from './openapi.js';
import { ProblemError, problemTypes } from './problem.js';
import { Public } from './public.js';
import { PRISMA } from './tokens.js';

/** The app's consumer loops (the JetStream server implements it). */
export interface ConsumerHealthSource {
  consumerHealth(): ConsumerHealth[];
}
export const CONSUMER_HEALTH = Symbol('CONSUMER_HEALTH');

/** A timer loop's health as readiness reports it (reported, not gating: loops retry by themselves). */
export interface LoopReport {
  name: string;
  running: boolean;
  consecutive_failures: number;
  last_success_at: string | null;
  last_failure_at: string | null;
}

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: { postgres: boolean; nats: boolean; consumers: boolean };
  consumers: { consumer: string; up: boolean; restarts: number; last_error: string | null }[];
  loops: LoopReport[];
}

function isLoopHealth(value: unknown): value is LoopHealth {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as LoopHealth).name === 'string' &&
    typeof (value as LoopHealth).running === 'boolean' &&
    typeof (value as LoopHealth).consecutiveFailures === 'number'
  );
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly nats: JetStreamConnection,
    private readonly discovery: DiscoveryService,
    @Optional()
    @Inject(CONSUMER_HEALTH)
    private readonly consumerSource: ConsumerHealthSource | null,
  ) {}

  /**
   * Every `Loop` this app runs: each provider that exposes a `health` of the loop's shape
   * (`PeriodicSweep`s, samplers, the outbox relay), found through Nest's provider list so a new
   * loop is reported without being registered anywhere.
   */
  loops(): LoopHealth[] {
    const seen = new Set<unknown>();
    const loops: LoopHealth[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.isDependencyTreeStatic() ? wrapper.instance : undefined;
      if (typeof instance !== 'object' || instance === null || seen.has(instance)) continue;
      seen.add(instance);
      if (!('health' in instance)) continue;
      const health = instance.health;
      if (isLoopHealth(health)) loops.push(health);
    }
    return loops.sort((a, b) => a.name.localeCompare(b.name));
  }

  consumers(): ConsumerHealth[] {
    return this.consumerSource?.consumerHealth() ?? [];
  }

  async check(): Promise<ReadinessReport> {
    const postgres = await this.prisma.$queryRaw`SELECT 1`.then(
      () => true,
      () => false,
    );
    const nats = this.nats.isHealthy();
    const consumerList = this.consumers();
    const consumers = consumerList.every((consumer) => consumer.up);
    const iso = (date: Date | undefined) => date?.toISOString() ?? null;
    return {
      status: postgres && nats && consumers ? 'ready' : 'unready',
      checks: { postgres, nats, consumers },
      consumers: consumerList.map((c) => ({
        consumer: c.consumer,
        up: c.up,
        restarts: c.restarts,
        last_error: c.lastError ?? null,
      })),
      loops: this.loops().map((loop) => ({
        name: loop.name,
        running: loop.running,
        consecutive_failures: loop.consecutiveFailures,
        last_success_at: iso(loop.lastSuccessAt),
        last_failure_at: iso(loop.lastFailureAt),
      })),
    };
  }

  /** The report when ready; a 503 problem naming what is down otherwise. */
  async ready(): Promise<ReadinessReport> {
    const report = await this.check();
    if (report.status !== 'ready') {
      const down = Object.entries(report.checks)
        .filter(([, up]) => !up)
        .map(([name]) => name);
      const deadConsumers = report.consumers.filter((c) => !c.up).map((c) => c.consumer);
      throw new ProblemError(
        503,
        problemTypes.unavailable,
        'Not ready',
        `unreachable: ${down.join(', ')}${deadConsumers.length ? ` (consumers down: ${deadConsumers.join(', ')})` : ''}`,
        { checks: report.checks, consumers: report.consumers, loops: report.loops },
      );
    }
    return report;
  }
}

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'unready']),
    checks: z.object({ postgres: z.boolean(), nats: z.boolean(), consumers: z.boolean() }),
    consumers: z
      .array(
        z.object({
          consumer: z.string(),
          up: z.boolean(),
          restarts: z.number().int(),
          last_error: z.string().nullable(),
        }),
      )
      .describe('Each durable consumer loop of this app; a dead one is restarted with backoff.'),
    loops: z
      .array(
        z.object({
          name: z.string(),
          running: z.boolean(),
          consecutive_failures: z.number().int(),
          last_success_at: z.string().nullable(),
          last_failure_at: z.string().nullable(),
        }),
      )
      .describe(
        "This app's timer loops: reported, not gating readiness (they retry by themselves).",
      ),
  })
  .meta({ id: 'Readiness' });

/** Probes for Kubernetes and the local supervisor: live = the process answers; ready = its dependencies do. */
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @ApiOperation({
    summary: 'Liveness: the process answers',
    tags: ['health'],
    responses: { 200: z.object({ status: z.literal('ok') }) },
  })
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @ApiOperation({
    summary:
      'Readiness: Postgres and NATS answer and every consumer loop pulls; 503 naming what is down',
    tags: ['health'],
    responses: { 200: readinessSchema },
    errors: [503],
  })
  @Get('ready')
  ready(): Promise<ReadinessReport> {
    return this.health.ready();
  }
}

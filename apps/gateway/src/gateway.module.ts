import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { kubeProvider } from '@roam/runtime';

import { ActionsModule } from './actions/actions.module.js';
import { AdminModule } from './admin/admin.module.js';
import { ApiKeysRepository } from './auth/api-keys.repository.js';
import { AuthGuard, RateLimitGuard } from './auth/auth.guard.js';
import { AuthService } from './auth/auth.service.js';
import { EventFeed } from './events/event-feed.js';
import { EventsController } from './events/events.controller.js';
import { EventsRepository } from './events/events.repository.js';
import { EventsService } from './events/events.service.js';
import { OpenStreamsModule } from './events/open-streams.js';
import { StreamKeyWatch } from './events/stream-key-watch.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { IdempotencyRepository } from './idempotency/idempotency.repository.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';
import { KueueExplainer } from './jobs/job-explain.kueue.js';
import { ArraysController } from './jobs/arrays.controller.js';
import { ArraysRepository } from './jobs/arrays.repository.js';
import { ArraysService } from './jobs/arrays.service.js';
import { GroupsController } from './jobs/groups.controller.js';
import { GroupsRepository } from './jobs/groups.repository.js';
import { GroupsService } from './jobs/groups.service.js';
import { JobExplainService } from './jobs/job-explain.service.js';
import { JobsBatchController } from './jobs/jobs-batch.controller.js';
import { JobsBatchService } from './jobs/jobs-batch.service.js';
import { JobsController } from './jobs/jobs.controller.js';
import { JobsRepository } from './jobs/jobs.repository.js';
import { DependenciesService } from './jobs/dependencies.service.js';
import { JobsService } from './jobs/jobs.service.js';
import { PipelinesController } from './pipelines/pipelines.controller.js';
import { PipelinesRepository } from './pipelines/pipelines.repository.js';
import { PipelinesService } from './pipelines/pipelines.service.js';
import { NodeCapacityCache } from './jobs/node-capacity.cache.js';
import { PendingCap } from './jobs/pending-cap.js';
import { OperatorInsightsController, UsageController } from './insights/insights.controller.js';
import { InsightsRepository } from './insights/insights.repository.js';
import { OffloadOverviewService } from './insights/offload-overview.service.js';
import { QueueSeriesService } from './insights/queue-series.service.js';
import { UsageSeriesService } from './insights/usage-series.service.js';
import { LogsModule } from './logs/logs.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { PriorityClassesController } from './priority-classes/priority-classes.controller.js';
import { PriorityClassesRepository } from './priority-classes/priority-classes.repository.js';
import { PriorityClassesService } from './priority-classes/priority-classes.service.js';
import { ResultsModule } from './results/results.module.js';
import { CompatHealthController } from './compat-health.controller.js';
import { CompatJobsFormController } from './compat/jobs-form.controller.js';
import { drainingSink, JOB_UPLOAD_SINK } from './compat/jobs-form.parser.js';
import { CompatModule } from './compat/compat.module.js';
import { ConsoleModule } from './console/console.module.js';
import { AdminKeysController } from './tenants/admin-keys.controller.js';
import { CompatAuthController } from './tenants/compat-auth.controller.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { TenantsRepository } from './tenants/tenants.repository.js';
import { TenantsService } from './tenants/tenants.service.js';
import { TemplatesController } from './templates/templates.controller.js';
import { TemplatesRepository } from './templates/templates.repository.js';
import { TemplatesService } from './templates/templates.service.js';
import { ArrayItemsService } from './uploads/array-items.service.js';
import { InputsService } from './uploads/inputs.service.js';
import { UploadSlots } from './uploads/upload-slots.js';
import { JobUploadsService } from './uploads/jobs-upload.service.js';
import { APP_CONFIG, LOGGER, OBJECT_STORE, objectStoreProvider } from '@roam/runtime';
import { type GatewayConfig, SecretBox, secretBoxFrom } from '@roam/config';
import type { Logger } from 'pino';
import { SecretsReseal } from './webhooks/secrets-reseal.js';
import { JobDeliveriesController } from './webhooks/job-deliveries.controller.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';
import { WebhooksRepository } from './webhooks/webhooks.repository.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

@Module({
  imports: [
    LogsModule,
    CompatModule,
    AdminModule,
    OpenApiModule,
    ActionsModule,
    ResultsModule,
    OpenStreamsModule,
    ConsoleModule,
  ],
  controllers: [
    CompatHealthController,
    CompatAuthController,
    TenantsController,
    AdminKeysController,
    JobsController,
    JobsBatchController,
    GroupsController,
    ArraysController,
    PipelinesController,
    TemplatesController,
    CompatJobsFormController,
    EventsController,
    WebhooksController,
    JobDeliveriesController,
    UsageController,
    OperatorInsightsController,
    PriorityClassesController,
  ],
  providers: [
    // Guards run in this order: who is calling, then whether they are over their rate.
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    AuthService,
    ApiKeysRepository,
    TenantsRepository,
    TenantsService,
    JobsRepository,
    JobsService,
    PriorityClassesRepository,
    PriorityClassesService,
    DependenciesService,
    JobsBatchService,
    GroupsRepository,
    GroupsService,
    ArraysRepository,
    ArraysService,
    PipelinesRepository,
    PipelinesService,
    PendingCap,
    JobExplainService,
    KueueExplainer,
    NodeCapacityCache,
    kubeProvider,
    TemplatesRepository,
    TemplatesService,
    // Usage over time, the queue and offloads, derived read-only from the tables.
    InsightsRepository,
    UsageSeriesService,
    QueueSeriesService,
    OffloadOverviewService,
    // Runs after the guards: a request refused for auth or rate claims no Idempotency-Key.
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
    IdempotencyRepository,
    IdempotencyService,
    EventFeed,
    EventsRepository,
    EventsService,
    // Ends open streams whose key was revoked or whose tenant is being deleted.
    StreamKeyWatch,
    WebhooksRepository,
    WebhooksService,
    // Secrets at rest (webhook secrets, stored idempotent responses) are sealed with it, and
    // re-sealed under the primary key after a rotation (docs/security.md, "Secrets at rest").
    {
      provide: SecretBox,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: GatewayConfig, logger: Logger) =>
        secretBoxFrom(config, (message) => logger.warn(message)),
    },
    SecretsReseal,
    // Input uploads (docs/storage.md): staged, checked, then kept in object storage; without
    // object storage they are drained as before.
    objectStoreProvider,
    InputsService,
    ArrayItemsService,
    // Bounds the uploads staged at once on /tmp, per tenant and per replica.
    UploadSlots,
    JobUploadsService,
    {
      provide: JOB_UPLOAD_SINK,
      inject: [OBJECT_STORE, InputsService],
      useFactory: (store: unknown, inputs: InputsService) => (store ? inputs : drainingSink),
    },
  ],
})
export class GatewayModule {}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, type JobEvent, subjects } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { StorageService } from './storage.service.js';

/**
 * An attempt is over: keep its log (and, once the job has finished, its results) before the
 * reconciler deletes the pods. The sweep finds what an event did not bring.
 */
@Controller()
export class StorageEventsHandler {
  constructor(private readonly storage: StorageService) {}

  @JetStreamEventPattern(subjects.job.succeeded)
  onSucceeded(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.storeJob(envelope.data.jobId);
  }

  @JetStreamEventPattern(subjects.job.failed)
  onFailed(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.storeJob(envelope.data.jobId);
  }

  /** A failed attempt that is retried: its log, before its Job reaches its TTL. */
  @JetStreamEventPattern(subjects.job.retried)
  onRetried(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.storeJob(envelope.data.jobId);
  }

  /** The log so far of a cancelled job's attempt: the reconciler stops it once archived. */
  @JetStreamEventPattern(subjects.job.cancelled)
  onCancelled(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.storeJob(envelope.data.jobId);
  }
}

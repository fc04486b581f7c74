import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, type JobEvent, subjects } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { StorageService } from './storage.service.js';

/** Finished jobs: keep their results and logs before Kubernetes deletes the pods. */
@Controller()
export class StorageEventsHandler {
  constructor(private readonly storage: StorageService) {}

  @JetStreamEventPattern(subjects.job.succeeded)
  onSucceeded(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.jobFinished(envelope.data.jobId);
  }

  @JetStreamEventPattern(subjects.job.failed)
  onFailed(@Payload() envelope: Envelope<JobEvent>): Promise<void> {
    return this.storage.jobFinished(envelope.data.jobId);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, type JobCancelCommand, subjects } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { ReconcilerService } from './reconciler.service.js';

/** Cancel commands: the reconciler stops and cleans up what runs for a cancelled job. */
@Controller()
export class JobCancelHandler {
  constructor(private readonly reconciler: ReconcilerService) {}

  /** The gateway has recorded the cancel; stopping what runs is the reconciler's part. */
  @JetStreamEventPattern(subjects.job.cancel)
  onCancel(@Payload() envelope: Envelope<JobCancelCommand>): void {
    this.reconciler.enqueue(envelope.data.jobId);
  }
}

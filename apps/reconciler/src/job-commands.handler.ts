import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, type JobCancelCommand, subjects } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { ReconcilerService } from './reconciler.service.js';

@Controller()
export class JobCommandsHandler {
  constructor(private readonly reconciler: ReconcilerService) {}

  /** The gateway has recorded the cancel; stopping what runs is the reconciler's part. */
  @JetStreamEventPattern(subjects.job.cancel)
  onCancel(@Payload() envelope: Envelope<JobCancelCommand>): void {
    this.reconciler.enqueue(envelope.data.jobId);
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  type Envelope,
  type JobEvent,
  type JobSubmitBatchCommand,
  type JobSubmitCommand,
  subjects,
} from '@roam/contracts';
import { type JetStreamContext, JetStreamEventPattern } from '@roam/messaging';

import { AdmissionLoop } from '../admission/admission.loop.js';
import { JobIntakeService } from './job-intake.service.js';

/**
 * A wake-up only reads that the message came: its data goes unchecked (the envelope still is),
 * and a deep window of them is in flight, so a burst's finishes cost few pulls.
 */
const WAKE = { concurrency: 256, validateData: false } as const;

/**
 * Takes submitted jobs in (one or a batch per command) and wakes admission whenever a job
 * arrives or a finished one frees quota, so the next cycle does not wait for its timer.
 */
@Controller()
export class JobIntakeHandler {
  constructor(
    private readonly intake: JobIntakeService,
    private readonly admission: AdmissionLoop,
  ) {}

  @JetStreamEventPattern(subjects.job.submit)
  async onSubmit(
    @Payload() envelope: Envelope<JobSubmitCommand>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    await this.intake.receive(envelope.data.jobId, context.deliveryCount);
    this.admission.wake();
  }

  @JetStreamEventPattern(subjects.job.submitBatch)
  async onSubmitBatch(@Payload() envelope: Envelope<JobSubmitBatchCommand>): Promise<void> {
    await this.intake.receiveMany(envelope.data.jobIds);
    this.admission.wake();
  }

  /** A finished job frees quota and capacity: admit the next ones now, not at the next tick. */
  @JetStreamEventPattern(subjects.job.succeeded, WAKE)
  onSucceeded(@Payload() _envelope: Envelope<JobEvent>): void {
    this.admission.wake();
  }

  @JetStreamEventPattern(subjects.job.failed, WAKE)
  onFailed(@Payload() _envelope: Envelope<JobEvent>): void {
    this.admission.wake();
  }

  @JetStreamEventPattern(subjects.job.cancelled, WAKE)
  onCancelled(@Payload() _envelope: Envelope<JobEvent>): void {
    this.admission.wake();
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  type Envelope,
  type JobEvent,
  type JobSubmitBatchCommand,
  type JobSubmitCommand,
  subjects,
} from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { AdmissionLoop } from '../admission/admission.loop.js';

/**
 * A wake-up only reads that the message came: its data goes unchecked (the envelope still is),
 * and a deep window of them is in flight, so a burst's submits and finishes cost few pulls.
 */
const WAKE = { concurrency: 256, validateData: false } as const;

/**
 * Wakes admission whenever a job arrives (one or a batch per command) or a finished one frees
 * quota, so the next cycle does not wait for its timer. Admission reads the pending jobs from
 * Postgres (docs/architecture.md#rule-3): a lost or repeated message changes nothing but when
 * that cycle runs, so nothing is written here.
 */
@Controller()
export class JobIntakeHandler {
  constructor(private readonly admission: AdmissionLoop) {}

  @JetStreamEventPattern(subjects.job.submit, WAKE)
  onSubmit(@Payload() _envelope: Envelope<JobSubmitCommand>): void {
    this.admission.wake();
  }

  @JetStreamEventPattern(subjects.job.submitBatch, WAKE)
  onSubmitBatch(@Payload() _envelope: Envelope<JobSubmitBatchCommand>): void {
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

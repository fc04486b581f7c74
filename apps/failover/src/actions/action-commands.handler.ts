import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type ActionExecuteCommand, type Envelope, subjects } from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { ActionRunner } from './action-runner.service.js';

@Controller()
export class ActionCommandsHandler {
  constructor(private readonly runner: ActionRunner) {}

  /** Throws on a transient failure, so the command is redelivered (the resume loop also retries). */
  @JetStreamEventPattern(subjects.action.execute)
  async onExecute(@Payload() envelope: Envelope<ActionExecuteCommand>): Promise<void> {
    await this.runner.run(envelope.data.actionId);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  type Envelope,
  subjects,
  type TenantDeleteCommand,
  type TenantProvisionCommand,
} from '@roam/contracts';
import { JetStreamEventPattern } from '@roam/messaging';

import { TenantProvisioner } from './tenant-provisioner.service.js';

@Controller()
export class TenantCommandsHandler {
  constructor(private readonly provisioner: TenantProvisioner) {}

  /** Throws on a Kubernetes failure, so JetStream redelivers with backoff. */
  @JetStreamEventPattern(subjects.tenant.provision)
  async onProvision(@Payload() envelope: Envelope<TenantProvisionCommand>): Promise<void> {
    await this.provisioner.provision(envelope.data.tenantId);
  }

  @JetStreamEventPattern(subjects.tenant.delete)
  async onDelete(@Payload() envelope: Envelope<TenantDeleteCommand>): Promise<void> {
    await this.provisioner.remove(envelope.data.tenantId);
  }
}

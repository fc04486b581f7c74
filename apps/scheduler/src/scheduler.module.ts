import { Module } from '@nestjs/common';
import { kubeProvider, objectStoreProvider } from '@roam/runtime';

import { AdmissionLoop } from './admission/admission.loop.js';
import { AdmissionRepository } from './admission/admission.repository.js';
import { AdmissionService } from './admission/admission.service.js';
import { ClusterView } from './admission/cluster-view.js';
import { Evictor } from './admission/evictor.js';
import { ArrayElementsLoop } from './arrays/array-elements.loop.js';
import { JobCreator } from './admission/job-creator.js';
import { JobFilesService } from './admission/job-files.js';
import { DependencyInputsRepository } from './dependencies/dependency-inputs.repository.js';
import { DependencyInputsService } from './dependencies/dependency-inputs.service.js';
import { KueueAdmissionRepository } from './admission/kueue/kueue-admission.repository.js';
import { KueueAdmissionService } from './admission/kueue/kueue-admission.service.js';
import { KueueInputsCheck } from './admission/kueue/kueue-inputs-check.js';
import { KueuePriorityClasses } from './admission/kueue/kueue-priority-classes.js';
import { KueueWorkloads } from './admission/kueue/kueue-workloads.js';
import { DependencyFailuresRepository } from './dependencies/dependency-failures.repository.js';
import { DependencyFailuresService } from './dependencies/dependency-failures.service.js';
import { JobIntakeHandler } from './jobs/job-intake.handler.js';
import { TenantCommandsHandler } from './tenants/tenant-commands.handler.js';
import { TenantConvergeLoop } from './tenants/tenant-converge.loop.js';
import { TenantProvisioner } from './tenants/tenant-provisioner.service.js';

@Module({
  controllers: [JobIntakeHandler, TenantCommandsHandler],
  providers: [
    kubeProvider,
    objectStoreProvider,
    ClusterView,
    JobFilesService,
    DependencyInputsRepository,
    DependencyInputsService,
    AdmissionRepository,
    JobCreator,
    Evictor,
    AdmissionService,
    KueueWorkloads,
    KueueAdmissionRepository,
    KueueAdmissionService,
    KueueInputsCheck,
    KueuePriorityClasses,
    DependencyFailuresRepository,
    DependencyFailuresService,
    AdmissionLoop,
    ArrayElementsLoop,
    TenantProvisioner,
    TenantConvergeLoop,
  ],
})
export class SchedulerModule {}

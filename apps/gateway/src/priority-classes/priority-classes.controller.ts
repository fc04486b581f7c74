import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';

import { AdminOnly } from '../auth/principal.js';
import {
  priorityClassesSchema,
  type PriorityClassesView,
  type PutPriorityClasses,
  putPriorityClassesSchema,
} from './priority-classes.schemas.js';
import { PriorityClassesService } from './priority-classes.service.js';

/** Named priorities for `priority_class` in a JobSpec (docs/scheduling.md#borrowing). */
@Controller()
export class PriorityClassesController {
  constructor(private readonly classes: PriorityClassesService) {}

  @ApiOperation({
    summary: 'Priority classes a JobSpec may name: the built-in low, normal, high and any defined',
    tags: ['jobs'],
    responses: { 200: priorityClassesSchema },
  })
  @Get('api/v1/priority-classes')
  list(): Promise<PriorityClassesView> {
    return this.classes.list();
  }

  @ApiOperation({
    summary: 'Replace the admin-defined priority classes (at most 32, values -1000 to 1000)',
    description:
      'The body is the whole set: classes left out are removed. Jobs already submitted keep the priority their class had. low (-100), normal (0) and high (100) are built in and cannot be redefined.',
    tags: ['admin'],
    body: putPriorityClassesSchema,
    responses: { 200: priorityClassesSchema },
  })
  @AdminOnly()
  @Put('api/v1/admin/priority-classes')
  replace(
    @Body(new ZodPipe(putPriorityClassesSchema)) body: PutPriorityClasses,
  ): Promise<PriorityClassesView> {
    return this.classes.replace(body);
  }
}

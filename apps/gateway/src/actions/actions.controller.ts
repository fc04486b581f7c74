import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ZodPipe } from '@roam/runtime';
import type { Response } from 'express';

import { AdminOnly } from '../auth/principal.js';
import {
  type ActionPage,
  actionPageSchema,
  type ActionRequest,
  actionRequestSchema,
  type ActionResponse,
  actionResponseSchema,
  actionId,
  type ActionView,
  actionViewSchema,
  type ListActionsQuery,
  listActionsQuery,
  type SubmitQuery,
  submitQuery,
} from './actions.schemas.js';
import { ActionsService } from './actions.service.js';
import { actionSummaryView, actionView } from './actions.view.js';

const body = new ZodPipe(actionRequestSchema, 'body');
const query = new ZodPipe(submitQuery, 'query');

const submitDoc = {
  description:
    'Records the action and hands it to the failover worker, then waits (`wait`, default 30 s) for it to finish: 200 `{id}` when it succeeded, 422 `{id, error}` when it failed (preflight refused, a step failed), 202 `{id}` when still running (follow `GET /api/v1/actions/{id}`). The same `id` again answers for the first action and runs nothing new; a second real action on a pool with one in flight is a 409 naming it.',
  tags: ['actions'],
  body: actionRequestSchema,
  query: submitQuery,
  responses: {
    200: actionResponseSchema,
    202: { description: 'Recorded, not finished yet', schema: actionResponseSchema },
    422: { description: 'The action failed', schema: actionResponseSchema },
  },
  errors: [409],
};

/**
 * Node-pool failover actions (the failover controller). The the failover controller served them without auth;
 * roam requires an admin (operators are admins).
 */
@AdminOnly()
@Controller()
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  @ApiOperation({
    summary: 'Run a node-pool action (failover controller route)',
    ...submitDoc,
    tags: ['actions', 'seed'],
  })
  @Post('actions')
  compatSubmit(
    @Body(body) request: ActionRequest,
    @Query(query) options: SubmitQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ActionResponse> {
    return this.submit(request, options, res);
  }

  @ApiOperation({ summary: 'Run a node-pool action', ...submitDoc })
  @Post('api/v1/actions')
  async submit(
    @Body(body) request: ActionRequest,
    @Query(query) options: SubmitQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ActionResponse> {
    const { action } = await this.actions.submit(request);
    const current = await this.actions.waitForEnd(action, options.wait);
    if (current.state === 'succeeded') res.status(200);
    else if (current.state === 'failed') {
      res.status(422);
      return { id: current.id, error: current.error ?? 'action failed' };
    } else res.status(202);
    return { id: current.id };
  }

  @ApiOperation({
    summary: 'An action: state, plan, steps, outcome and timestamps',
    tags: ['actions'],
    params: { id: actionId },
    responses: { 200: actionViewSchema },
    errors: [404],
  })
  @Get('api/v1/actions/:id')
  async get(@Param('id', new ZodPipe(actionId, 'path')) id: string): Promise<ActionView> {
    const { action, steps } = await this.actions.get(id);
    return actionView(action, steps);
  }

  @ApiOperation({
    summary: 'Audit log of actions, newest first',
    tags: ['actions'],
    query: listActionsQuery,
    responses: { 200: actionPageSchema },
  })
  @Get('api/v1/actions')
  async list(
    @Query(new ZodPipe(listActionsQuery, 'query')) filter: ListActionsQuery,
  ): Promise<ActionPage> {
    const page = await this.actions.list(filter);
    return { items: page.items.map(actionSummaryView), next_cursor: page.nextCursor };
  }
}

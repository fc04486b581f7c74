import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrismaClient } from '@roam/db';
import { uuidv7 } from '@roam/domain';
import { createTestDatabase } from '@roam/testing';

import {
  ARRAY_SUBMIT_ELEMENTS,
  arrayElementId,
  materializeArrayElements,
  type NewJobRecord,
  submitJobArray,
} from '../src/index.js';

const TENANT = 'array-rows-a';
const GONE = 'array-rows-gone';

describe('array element rows (Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase('array_elements');
    prisma = db.prisma;
    for (const id of [TENANT, GONE])
      await prisma.tenant.create({ data: { id, namespace: `roam-${id}`, status: 'ready' } });
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  const element = (id: string, tenantId = TENANT): NewJobRecord => ({
    id,
    tenantId,
    name: 'sweep',
    queue: 'default',
    priority: 3,
    spec: {
      image: 'busybox',
      command: ['true'],
      env: { MODE: 'fast' },
      resources: { cpu: '100m', memory: '64Mi', gpu: 0 },
      queue: 'default',
      priority: 3,
      ttl_seconds_after_finished: 3600,
      offload: 'never',
    },
    labels: { team: 'a' },
    cpuMillis: 100,
    memoryBytes: 64 * 1024 * 1024,
    gpu: 0,
    offloadPreference: 'never',
    maxAttempts: 2,
    templateId: null,
    inputsKey: null,
    inputsBytes: null,
    group: 'rows',
  });

  const rows = (arrayId: string) => prisma.job.count({ where: { arrayId } });
  const arrayRow = (id: string) => prisma.jobArray.findUniqueOrThrow({ where: { id } });
  /** Runs the scheduler's step until no array lacks rows; answers the chunks it took. */
  const materializeAll = async (chunk: number) => {
    const steps: { arrayId: string; created: number }[] = [];
    for (;;) {
      const step = await materializeArrayElements(prisma, chunk);
      if (!step) return steps;
      steps.push(step);
    }
  };

  it('creates the first rows at submit and the rest in chunks, each as a submit would', async () => {
    const id = uuidv7();
    const size = ARRAY_SUBMIT_ELEMENTS + 1500;
    expect(
      await prisma.$transaction((tx) =>
        submitJobArray(tx, { id, size, parallelism: 10, element: element(id) }),
      ),
    ).toBe(ARRAY_SUBMIT_ELEMENTS);
    expect(await rows(id)).toBe(ARRAY_SUBMIT_ELEMENTS);
    // The counters count every element from the submit on.
    expect(await arrayRow(id)).toMatchObject({
      size,
      submitted: size,
      materialized: ARRAY_SUBMIT_ELEMENTS,
      elementRecord: expect.objectContaining({ name: 'sweep', priority: 3 }),
    });

    expect(await materializeAll(1000)).toEqual([
      { arrayId: id, created: 1000 },
      { arrayId: id, created: 500 },
    ]);
    expect(await rows(id)).toBe(size);
    expect(await arrayRow(id)).toMatchObject({
      submitted: size,
      queued: 0,
      materialized: size,
      elementRecord: null,
    });
    // The last element, made by the chunk, matches the first, made by the submit, but for its index.
    const first = await prisma.job.findUniqueOrThrow({ where: { id: arrayElementId(id, 0) } });
    const last = await prisma.job.findUniqueOrThrow({
      where: { id: arrayElementId(id, size - 1) },
    });
    expect(last).toMatchObject({
      tenantId: TENANT,
      name: `sweep-${size - 1}`,
      queue: 'default',
      priority: 3,
      labels: { team: 'a' },
      cpuMillis: 100,
      maxAttempts: 2,
      groupName: 'rows',
      arrayId: id,
      arrayIndex: size - 1,
      status: 'pending',
      phase: 'Submitted',
      seq: 1,
      depsUnmet: 0,
    });
    expect(last.spec).toEqual({
      ...(first.spec as object),
      env: { MODE: 'fast', ROAM_ARRAY_INDEX: String(size - 1), ROAM_ARRAY_SIZE: String(size) },
    });
    expect(
      await prisma.jobHistory.findMany({
        where: { jobId: last.id },
        select: { seq: true, phase: true },
      }),
    ).toEqual([{ seq: 1, phase: 'Submitted' }]);
    // The group counts rows as they are created.
    expect(
      await prisma.jobGroup.findFirst({ where: { tenantId: TENANT, name: 'rows' } }),
    ).toMatchObject({ submitted: size });
  });

  it('creates every row at submit when asked, and with items', async () => {
    const all = uuidv7();
    const size = ARRAY_SUBMIT_ELEMENTS + 10;
    await prisma.$transaction((tx) =>
      submitJobArray(tx, {
        id: all,
        size,
        parallelism: null,
        element: element(all),
        allElements: true,
      }),
    );
    const items = uuidv7();
    await prisma.$transaction((tx) =>
      submitJobArray(tx, {
        id: items,
        size,
        parallelism: null,
        element: element(items),
        items: Array.from({ length: size }, (_, i) => `item-${i}`),
      }),
    );
    for (const id of [all, items]) {
      expect(await rows(id)).toBe(size);
      expect(await arrayRow(id)).toMatchObject({ materialized: size, elementRecord: null });
    }
    expect(await materializeArrayElements(prisma)).toBeNull();
  });

  it('leaves the rows of a tenant being deleted alone, and goes on with other arrays', async () => {
    const gone = uuidv7();
    await prisma.$transaction((tx) =>
      submitJobArray(tx, {
        id: gone,
        size: ARRAY_SUBMIT_ELEMENTS + 1,
        parallelism: null,
        element: element(gone, GONE),
      }),
    );
    await prisma.tenant.update({ where: { id: GONE }, data: { status: 'deleting' } });
    const next = uuidv7();
    await prisma.$transaction((tx) =>
      submitJobArray(tx, {
        id: next,
        size: ARRAY_SUBMIT_ELEMENTS + 2,
        parallelism: null,
        element: element(next),
      }),
    );
    expect(await materializeAll(5000)).toEqual([{ arrayId: next, created: 2 }]);
    expect(await rows(gone)).toBe(ARRAY_SUBMIT_ELEMENTS);
  });
});

import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { PRISMA } from '@roam/runtime';

@Injectable()
export class PriorityClassesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async list(): Promise<{ name: string; value: number }[]> {
    return this.prisma.priorityClass.findMany({
      select: { name: true, value: true },
      orderBy: { name: 'asc' },
    });
  }

  /** Replaces every admin-defined class in one transaction. */
  async replace(items: readonly { name: string; value: number }[]): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.priorityClass.deleteMany({}),
      this.prisma.priorityClass.createMany({ data: [...items] }),
    ]);
  }
}

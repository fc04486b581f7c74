/**
 * A binary min-heap under a strict total order `less`. Admission keeps one entry per tenant in
 * it, so picking the tenant with the lowest share costs O(log tenants) instead of a scan; the
 * storage worker's merge of a gang's logs keeps one line per pod in it.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent] as T;
      if (!this.less(item, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && this.less(items[right] as T, items[left] as T) ? right : left;
      const below = items[child] as T;
      if (!this.less(below, last)) break;
      items[i] = below;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

import type { RoamClient } from '@roam/client';
import { type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

export type FeedState = 'connecting' | 'live' | 'reconnecting';

/** `jobs/<id>` → `<id>`: the subject every job event carries. */
const jobIdOf = (subject: string | undefined) =>
  subject?.startsWith('jobs/') ? subject.slice('jobs/'.length) : undefined;

/**
 * Follows the tenant's event feed (SSE) for as long as the console is open and refreshes what
 * a job event changes: the job's page at once, the jobs table, groups and arrays at most every 500 ms. A dropped
 * stream is resumed from the last position seen, after a growing pause.
 */
export function useEventFeed(client: RoamClient | undefined, queries: QueryClient): FeedState {
  const [state, setState] = useState<FeedState>('connecting');
  useEffect(() => {
    if (!client) return;
    const abort = new AbortController();
    let after: number | undefined;
    let listTimer: ReturnType<typeof setTimeout> | undefined;
    const refreshLists = () => {
      listTimer ??= setTimeout(() => {
        listTimer = undefined;
        for (const list of ['jobs', 'groups', 'arrays'])
          void queries.invalidateQueries({ queryKey: [list] });
      }, 500);
    };
    const run = async () => {
      let pause = 500;
      while (!abort.signal.aborted) {
        try {
          const stream = client.eventStream(
            { type: 'job.*', ...(after !== undefined ? { after: String(after) } : {}) },
            abort.signal,
          );
          setState('live');
          for await (const message of stream) {
            after = message.position;
            pause = 500;
            const id = jobIdOf(message.event.subject);
            if (id) void queries.invalidateQueries({ queryKey: ['job', id] });
            refreshLists();
          }
        } catch {
          // Fall through to the pause and resume.
        }
        if (abort.signal.aborted) return;
        setState('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 15_000);
      }
    };
    void run();
    return () => {
      abort.abort();
      if (listTimer) clearTimeout(listTimer);
    };
  }, [client, queries]);
  return state;
}

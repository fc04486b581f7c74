import { describe, expect, it } from '@jest/globals';
import { NO_RESULTS_MESSAGE, RESULTS_CONTAINER } from '@roam/object-store';

import { attemptLeftNoResults, leftNoResults } from './results-sidecar.js';

const pod = (name: string, message?: string) => ({
  status: {
    initContainerStatuses: [
      { name: 'roam-inputs', state: { terminated: { message: NO_RESULTS_MESSAGE } } },
      { name, state: { terminated: message === undefined ? {} : { message } } },
    ],
  },
});

describe('leftNoResults', () => {
  it("believes the results sidecar's own termination message only", () => {
    expect(leftNoResults(pod(RESULTS_CONTAINER, NO_RESULTS_MESSAGE))).toBe(true);
    expect(leftNoResults(pod(RESULTS_CONTAINER, `${NO_RESULTS_MESSAGE}\n`))).toBe(true);
  });

  it('says "ask the store" for any other message, none, another container, or no pod', () => {
    expect(leftNoResults(pod(RESULTS_CONTAINER, 'uploaded'))).toBe(false);
    expect(leftNoResults(pod(RESULTS_CONTAINER))).toBe(false);
    // Another container saying the words (here the inputs fetcher) does not count.
    expect(leftNoResults(pod('main', 'something'))).toBe(false);
    expect(leftNoResults({ status: {} })).toBe(false);
    expect(leftNoResults(undefined)).toBe(false);
  });
});

describe('attemptLeftNoResults', () => {
  it('needs every pod of the attempt to say so: a slice host that uploaded may be any of them', () => {
    const none = pod(RESULTS_CONTAINER, NO_RESULTS_MESSAGE);
    const uploaded = pod(RESULTS_CONTAINER);
    expect(attemptLeftNoResults([none])).toBe(true);
    expect(attemptLeftNoResults([none, none])).toBe(true);
    expect(attemptLeftNoResults([none, uploaded])).toBe(false);
    expect(attemptLeftNoResults([uploaded, none])).toBe(false);
    expect(attemptLeftNoResults([])).toBe(false);
    expect(attemptLeftNoResults(undefined)).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import { createEnvelope, defaultRegistry, subjects } from '@roam/contracts';

import { checkEnvelope } from './envelope.js';

const bad = createEnvelope(subjects.job.submit, { jobId: 42 }, { source: 'test' });

describe('checkEnvelope', () => {
  it('checks data against the subject schema by default', () => {
    const check = checkEnvelope(bad, subjects.job.submit, defaultRegistry);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error).toMatch(/^invalid data for roam\.cmd\.v1\.job\.submit/);
  });

  it('with data: false, leaves data unchecked and as it came', () => {
    const check = checkEnvelope(bad, subjects.job.submit, defaultRegistry, { data: false });
    expect(check).toEqual({ ok: true, envelope: expect.objectContaining({ data: { jobId: 42 } }) });
  });

  it('with data: false, still refuses a bad envelope, a foreign type and an unknown subject', () => {
    const options = { data: false };
    expect(
      checkEnvelope({ ...bad, id: 'x' }, subjects.job.submit, defaultRegistry, options),
    ).toEqual(expect.objectContaining({ ok: false }));
    expect(checkEnvelope(bad, subjects.job.cancel, defaultRegistry, options)).toEqual({
      ok: false,
      error: `envelope type "${subjects.job.submit}" does not match subject "${subjects.job.cancel}"`,
    });
    const unknown = { ...bad, type: 'roam.cmd.v1.nope' };
    expect(checkEnvelope(unknown, 'roam.cmd.v1.nope', defaultRegistry, options)).toEqual({
      ok: false,
      error: 'unknown subject "roam.cmd.v1.nope": no schema registered',
    });
  });
});

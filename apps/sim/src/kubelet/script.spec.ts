import { describe, expect, it } from '@jest/globals';
import { interpret, planContainer, planDuration } from './script.js';

describe('interpret', () => {
  it.each([
    ['sleep 10', 10, 0, []],
    ['echo hi; sleep 2 && echo "a b"', 2, 0, ['hi', 'a b']],
    ['false && echo no; echo yes', 0, 0, ['yes']],
    ['false || exit 4; echo never', 0, 4, []],
    ['true', 0, 0, []],
    ['false', 0, 1, []],
    ["sh -c 'sleep 1m; exit 2'", 60, 2, []],
  ])('%s', (script, seconds, exitCode, logs) => {
    const plan = interpret(script);
    expect(planDuration(plan)).toBe(seconds);
    expect(plan.exitCode).toBe(exitCode);
    expect(
      plan.steps.filter((s) => s.kind === 'log').map((s) => (s as { text: string }).text),
    ).toEqual(logs);
  });

  it('turns redirects into file writes', () => {
    expect(interpret('echo 42 > /out/x; echo more >> /out/x').steps).toEqual([
      { kind: 'file', path: '/out/x', content: '42\n', append: false },
      { kind: 'file', path: '/out/x', content: 'more\n', append: true },
    ]);
  });

  it('runs unknown commands briefly and says what it would have run', () => {
    const plan = interpret('python train.py --epochs 3');
    expect(plan.exitCode).toBe(0);
    expect(plan.steps[0]).toEqual({
      kind: 'log',
      text: '[sim] would run: python train.py --epochs 3',
    });
    expect(planDuration(plan)).toBeGreaterThan(0);
  });
});

describe('planContainer', () => {
  it('joins command and args like a container runtime', () => {
    expect(planDuration(planContainer(['sleep'], ['30'], 'busybox'))).toBe(30);
    expect(planContainer(['/bin/sh', '-c'], ['echo hi; exit 3'], 'busybox').exitCode).toBe(3);
  });
});

describe('environment and test', () => {
  it('expands $VAR and ${VAR} from the container env, not inside single quotes', () => {
    const plan = planContainer(['sh', '-c'], ['echo $A ${B} \'$A\' "$A"'], 'busybox', {
      A: '1',
      B: '2',
    });
    expect(plan.steps).toEqual([{ kind: 'log', text: '1 2 $A 1' }]);
  });

  it('lets a job behave by attempt with test / [ ]', () => {
    const script = 'test "$ROAM_ATTEMPT" = 1 && exit 3; echo ok';
    expect(
      planContainer(['sh', '-c', script], undefined, 'busybox', { ROAM_ATTEMPT: '1' }).exitCode,
    ).toBe(3);
    expect(
      planContainer(['sh', '-c', script], undefined, 'busybox', { ROAM_ATTEMPT: '2' }).exitCode,
    ).toBe(0);
    expect(planContainer(['sh', '-c', '[ 3 -gt 2 ] && exit 5'], undefined, 'x').exitCode).toBe(5);
    expect(planContainer(['sh', '-c', '[ -z "" ] || exit 6'], undefined, 'x').exitCode).toBe(0);
  });

  it('does not expand without a shell', () => {
    expect(planContainer(['echo', '$A'], undefined, 'busybox', { A: '1' }).steps).toEqual([
      { kind: 'log', text: '$A' },
    ]);
  });
});

// Reads a container's command the way a shell would, for the handful of commands that
// matter to a simulator: sleep, echo/printf (with > file), exit, true/false, sh -c, ; && ||.
// Everything else "runs" for a moment and logs what it would have done.
export type Step =
  | { kind: 'sleep'; seconds: number }
  | { kind: 'log'; text: string }
  | { kind: 'file'; path: string; content: string; append: boolean };

export interface Plan {
  steps: Step[];
  exitCode: number;
}

const UNKNOWN_COMMAND_SECONDS = 1;

function tokenize(script: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  const push = () => {
    if (has) tokens.push(cur);
    cur = '';
    has = false;
  };
  for (let i = 0; i < script.length; i += 1) {
    const ch = script[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (
        ch === '\\' &&
        quote === '"' &&
        i + 1 < script.length &&
        '"\\$`'.includes(script[i + 1]!)
      )
        cur += script[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < script.length) {
      cur += script[++i];
      has = true;
    } else if (ch === ' ' || ch === '\t') push();
    else if (ch === '\n' || ch === ';') {
      push();
      tokens.push(';');
    } else if ((ch === '&' || ch === '|') && script[i + 1] === ch) {
      push();
      tokens.push(ch + ch);
      i += 1;
    } else if (ch === '|') {
      push();
      tokens.push('|');
    } else if (ch === '>') {
      push();
      if (script[i + 1] === '>') {
        tokens.push('>>');
        i += 1;
      } else tokens.push('>');
    } else {
      cur += ch;
      has = true;
    }
  }
  push();
  return tokens;
}

export type Env = Readonly<Record<string, string>>;

/** `$NAME` and `${NAME}` from the container's env, outside single quotes, as a shell would. */
export function expand(script: string, env: Env): string {
  let out = '';
  let single = false;
  let double = false;
  for (let i = 0; i < script.length; i += 1) {
    const ch = script[i]!;
    if (ch === "'" && !double) single = !single;
    else if (ch === '"' && !single) double = !double;
    if (ch === '$' && !single) {
      const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(script.slice(i + 1));
      const plain = /^[A-Za-z_][A-Za-z0-9_]*/.exec(script.slice(i + 1));
      const match = braced ?? plain;
      if (match) {
        const name = braced ? braced[1]! : match[0];
        out += env[name] ?? '';
        i += match[0].length;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** `test` / `[ … ]`: string and integer comparisons, -z / -n. Exit status 0 when true. */
function testExpression(args: string[]): number {
  const operands = args.at(-1) === ']' ? args.slice(0, -1) : args;
  const truth = (value: boolean) => (value ? 0 : 1);
  if (operands[0] === '!') return 1 - testExpression(operands.slice(1));
  if (operands.length === 1) return truth((operands[0] ?? '') !== '');
  if (operands.length === 2) {
    if (operands[0] === '-z') return truth((operands[1] ?? '') === '');
    if (operands[0] === '-n') return truth((operands[1] ?? '') !== '');
    return 2;
  }
  const [left = '', op = '', right = ''] = operands;
  const a = Number(left);
  const b = Number(right);
  switch (op) {
    case '=':
    case '==':
      return truth(left === right);
    case '!=':
      return truth(left !== right);
    case '-eq':
      return truth(a === b);
    case '-ne':
      return truth(a !== b);
    case '-lt':
      return truth(a < b);
    case '-le':
      return truth(a <= b);
    case '-gt':
      return truth(a > b);
    case '-ge':
      return truth(a >= b);
    default:
      return 2;
  }
}

function parseDuration(arg: string | undefined): number {
  if (!arg) return 0;
  if (arg === 'infinity' || arg === 'inf') return 365 * 24 * 3600;
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(arg);
  if (!m) return 0;
  const n = Number(m[1]);
  return n * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ''] ?? 1);
}

interface State {
  steps: Step[];
  status: number;
  exited: boolean;
}

function runCommand(argv: string[], st: State, env: Env): void {
  let redirect: { path: string; append: boolean } | undefined;
  const ri = argv.findIndex((t) => t === '>' || t === '>>');
  if (ri >= 0) {
    redirect = { path: argv[ri + 1] ?? '', append: argv[ri] === '>>' };
    argv = argv.slice(0, ri);
  }
  // Leading VAR=value assignments and `exec` do not change what runs.
  while (argv.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!) || argv[0] === 'exec'))
    argv = argv.slice(1);
  const cmd = (argv[0] ?? '').split('/').pop() ?? '';
  const args = argv.slice(1);
  const output = (text: string) => {
    if (redirect)
      st.steps.push({
        kind: 'file',
        path: redirect.path,
        content: `${text}\n`,
        append: redirect.append,
      });
    else st.steps.push({ kind: 'log', text });
  };
  switch (cmd) {
    case '':
      return;
    case 'sleep':
      st.steps.push({ kind: 'sleep', seconds: args.reduce((n, a) => n + parseDuration(a), 0) });
      st.status = 0;
      return;
    case 'echo': {
      const words = args.filter((a, i) => !(i === 0 && (a === '-n' || a === '-e')));
      output(words.join(' '));
      st.status = 0;
      return;
    }
    case 'printf':
      output(
        (args[0] ?? '')
          .replace(/\\n$/, '')
          .replace(/\\n/g, '\n')
          .replace(/%s/g, () => args[1] ?? ''),
      );
      st.status = 0;
      return;
    case 'exit':
      st.status = Number.parseInt(args[0] ?? '0', 10) || 0;
      st.exited = true;
      return;
    case 'true':
    case ':':
    case 'set':
    case 'cd':
    case 'export':
      st.status = 0;
      return;
    case 'false':
      st.status = 1;
      return;
    case 'test':
    case '[':
      st.status = testExpression(args);
      return;
    case 'sh':
    case 'bash':
    case 'ash':
    case 'dash': {
      const ci = args.indexOf('-c');
      if (ci >= 0 && args[ci + 1] !== undefined) {
        const inner = interpret(args[ci + 1]!, env);
        st.steps.push(...inner.steps);
        st.status = inner.exitCode;
        return;
      }
      break;
    }
  }
  st.steps.push({ kind: 'log', text: `[sim] would run: ${argv.join(' ')}` });
  st.steps.push({ kind: 'sleep', seconds: UNKNOWN_COMMAND_SECONDS });
  st.status = 0;
}

export function interpret(script: string, env: Env = {}): Plan {
  const tokens = tokenize(expand(script, env));
  const st: State = { steps: [], status: 0, exited: false };
  let argv: string[] = [];
  let skip = false;
  const flush = () => {
    if (!skip && !st.exited) runCommand(argv, st, env);
    argv = [];
  };
  for (const tok of tokens) {
    if (st.exited) break;
    if (tok === ';') {
      flush();
      skip = false;
    } else if (tok === '&&') {
      flush();
      skip = st.status !== 0;
    } else if (tok === '||') {
      flush();
      skip = st.status === 0;
    } else if (tok === '|') {
      // A pipeline's status is its last command's; earlier stages only feed it.
      argv = [];
    } else argv.push(tok);
  }
  flush();
  return { steps: st.steps, exitCode: st.status };
}

/** The plan for a container's command + args (Docker's entrypoint/cmd split). */
export function planContainer(
  command: string[] | undefined,
  args: string[] | undefined,
  image: string,
  env: Env = {},
): Plan {
  const argv = [...(command ?? []), ...(args ?? [])];
  if (argv.length === 0) {
    return {
      steps: [
        { kind: 'log', text: `[sim] would run the default entrypoint of ${image}` },
        { kind: 'sleep', seconds: UNKNOWN_COMMAND_SECONDS },
      ],
      exitCode: 0,
    };
  }
  const quoted = argv.map((a) =>
    /^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`,
  );
  const shell = (argv[0] ?? '').split('/').pop() ?? '';
  if (['sh', 'bash', 'ash', 'dash'].includes(shell) && argv[1] === '-c' && argv[2] !== undefined)
    return interpret(argv[2], env);
  // Without a shell nothing expands: a word with `$` is single-quoted above, so it stays as is.
  return interpret(quoted.join(' '));
}

export function planDuration(plan: Plan): number {
  return plan.steps.reduce((n, s) => n + (s.kind === 'sleep' ? s.seconds : 0), 0);
}

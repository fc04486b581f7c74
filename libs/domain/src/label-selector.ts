/**
 * Kubernetes label selectors (the `labelSelector` query of `kubectl get -l`), parsed into
 * requirements that every one must hold (comma = AND):
 *
 *   a=b  a==b  a!=b  a in (x,y)  a notin (x)  a  !a
 *
 * Semantics are Kubernetes': `!=` and `notin` also match objects without the key.
 * Pure: the gateway turns the requirements into SQL over the `labels` jsonb column, and
 * `matchesLabelSelector` states the same meaning in memory (the spec checks both agree on it).
 */
export type LabelRequirement =
  | { key: string; operator: 'in'; values: string[] }
  | { key: string; operator: 'notin'; values: string[] }
  | { key: string; operator: 'exists' }
  | { key: string; operator: 'doesnotexist' };

export class LabelSelectorError extends Error {}

/** Same rules as the JobSpec's `labels` (contracts): optional DNS-subdomain prefix, then a name. */
const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_SELECTOR_LENGTH = 4096;
const MAX_VALUES = 100;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ','; at: number };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t') {
      i += 1;
    } else if (c === '=' || c === '!') {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two, at: i });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c, at: i });
        i += 1;
      }
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c, at: i });
      i += 1;
    } else {
      const start = i;
      while (i < input.length && !' \t=!(),'.includes(input[i]!)) i += 1;
      tokens.push({ kind: 'word', text: input.slice(start, i), at: start });
    }
  }
  return tokens;
}

function checkKey(key: string): string {
  if (key.length > 253 || !KEY.test(key)) {
    throw new LabelSelectorError(`"${key}" is not a valid label key`);
  }
  return key;
}

function checkValue(value: string): string {
  if (value.length > 63 || !VALUE.test(value)) {
    throw new LabelSelectorError(`"${value}" is not a valid label value`);
  }
  return value;
}

/** Parses a selector; the empty selector selects everything. Throws `LabelSelectorError`. */
export function parseLabelSelector(input: string): LabelRequirement[] {
  if (input.length > MAX_SELECTOR_LENGTH) {
    throw new LabelSelectorError(`is longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  const tokens = tokenize(input);
  const requirements: LabelRequirement[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const describe = (token: Token | undefined) =>
    token ? `"${token.text}" at position ${token.at + 1}` : 'the end of the selector';
  const unexpected = (expected: string): never => {
    throw new LabelSelectorError(`expected ${expected} but found ${describe(peek())}`);
  };
  const word = (expected: string): string => {
    const token = peek();
    if (token?.kind !== 'word') return unexpected(expected);
    i += 1;
    return token.text;
  };
  const op = (text: Token['text']): boolean => {
    const token = peek();
    if (token?.kind === 'op' && token.text === text) {
      i += 1;
      return true;
    }
    return false;
  };

  if (tokens.length === 0) return requirements;
  for (;;) {
    if (op('!')) {
      requirements.push({ key: checkKey(word('a label key after "!"')), operator: 'doesnotexist' });
    } else {
      const key = checkKey(word('a label key'));
      const next = peek();
      if (next === undefined || (next.kind === 'op' && next.text === ',')) {
        requirements.push({ key, operator: 'exists' });
      } else if (op('=') || op('==')) {
        requirements.push({ key, operator: 'in', values: [checkValue(valueOrEmpty())] });
      } else if (op('!=')) {
        requirements.push({ key, operator: 'notin', values: [checkValue(valueOrEmpty())] });
      } else if (next.kind === 'word' && (next.text === 'in' || next.text === 'notin')) {
        i += 1;
        const operator = next.text;
        requirements.push({ key, operator, values: valueSet() });
      } else {
        unexpected('=, ==, !=, in, notin, "," or the end after a label key');
      }
    }
    if (peek() === undefined) return requirements;
    if (!op(',')) unexpected('","');
  }

  /** `a=` selects an empty value, as in Kubernetes. */
  function valueOrEmpty(): string {
    const token = peek();
    if (token === undefined || (token.kind === 'op' && token.text === ',')) return '';
    return word('a label value');
  }

  function valueSet(): string[] {
    if (!op('(')) unexpected('"(" after in/notin');
    if (op(')')) throw new LabelSelectorError('in/notin needs at least one value');
    const values: string[] = [];
    for (;;) {
      const token = peek();
      // `(x,)` carries an empty value, as Kubernetes reads it.
      if (token?.kind === 'word') {
        values.push(checkValue(token.text));
        i += 1;
      } else {
        values.push('');
      }
      if (op(')')) break;
      if (!op(',')) unexpected('"," or ")" in a value set');
    }
    if (values.length > MAX_VALUES) {
      throw new LabelSelectorError(`a value set may hold at most ${MAX_VALUES} values`);
    }
    return [...new Set(values)];
  }
}

/** Whether `labels` satisfy every requirement (the in-memory meaning of the SQL filter). */
export function matchesLabelSelector(
  requirements: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.operator) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}

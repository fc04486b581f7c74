import { createHash } from 'node:crypto';

/** Distinct statements named per process (and so prepared, at most, on each connection). */
export const DEFAULT_NAMED_STATEMENTS = 500;

/** A `*` that is not `count(*)`: a result shape that follows the table's columns. */
const STAR = /\*/g;
const COUNT_STAR = /\bcount\s*\(\s*\*\s*\)/gi;
/**
 * Quoted text and comments, whose `*` is not SQL (`'*' = ANY(events)`, `/* a note *\/`): in one
 * pass, so each starts where the SQL around it says (a `'` in a quoted identifier or in a
 * dollar-quoted string opens nothing). Dollar quotes, escape strings, quoted identifiers,
 * strings, line and block comments. What is left unterminated stays, `*` and all: not named.
 */
const QUOTED_AND_COMMENTS =
  /\$([A-Za-z_][A-Za-z_0-9]*)?\$[\s\S]*?\$\1\$|[Ee]'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"]|"")*"|'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g;

/**
 * Whether a statement may be prepared once per connection and reused across migrations.
 * Postgres re-plans a prepared statement after DDL on its tables, but refuses ("cached plan
 * must not change result type") when its result columns changed: `SELECT *`, `RETURNING *` or
 * `t.*` change when a migration adds a column. Any `*` other than `count(*)` disqualifies the
 * statement (a multiplication too: erring toward not naming only costs a parse and a plan on
 * every call); one in quoted text or a comment does not.
 */
export function hasStableResultShape(sql: string): boolean {
  return sql.replace(QUOTED_AND_COMMENTS, ' ').replace(COUNT_STAR, '').search(STAR) === -1;
}

/**
 * Names statements for node-postgres, which then parses each named statement once per
 * connection and reuses the plan: Postgres's parse and plan per query were ~30% of its CPU on a
 * submit. The name is derived from the SQL text, so the same text gets the same name on every
 * connection and in every process. Only statements with a stable result shape are named, and
 * only the first `capacity` distinct ones: a connection keeps what it prepared until it closes,
 * so statements whose text varies (an `IN` list of varying length) must not grow it without
 * bound. Returns `''` (unnamed: parsed on every execution) for the rest.
 */
export function statementNames(
  capacity = DEFAULT_NAMED_STATEMENTS,
): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    const known = names.get(sql);
    if (known !== undefined) return known;
    if (names.size >= capacity) return '';
    const name = hasStableResultShape(sql)
      ? `roam_${createHash('sha1').update(sql).digest('hex')}`
      : '';
    names.set(sql, name);
    return name;
  };
}

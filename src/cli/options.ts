import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import { parseSince } from '../replay/since';

/**
 * Argument parsers for commander options (`.option(flags, description, parser, default)`).
 * They run while commander parses the command line, before any action, so a bad value stops
 * the command with `error: option '<flags>' argument '<value>' is invalid. <why>` and exit
 * code 1 before anything is read, written or connected to. Every numeric option uses one of these.
 */

/** Decimal digits only: no sign, no blank, no `0x…`, `1e3` or `2.5`. */
const DIGITS = /^[0-9]+$/;

function integerParser(name: string, min: number, what: string): (value: string) => number {
  return (value: string) => {
    const n = DIGITS.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be ${what}.`);
    return n;
  };
}

/** A whole number ≥ 1 given as digits, e.g. `--limit 20`. */
export function positiveInt(name: string): (value: string) => number {
  return integerParser(name, 1, 'a whole number ≥ 1');
}

/** A whole number ≥ 0 given as digits, e.g. `--reconcile-window 0`. */
export function nonNegativeInt(name: string): (value: string) => number {
  return integerParser(name, 0, 'a whole number ≥ 0');
}

/** A value that must pass a zod schema (the rule lives with the schema; the message is the schema's). */
export function fromSchema<S extends z.ZodType<unknown, string>>(name: string, schema: S): (value: string) => z.output<S> {
  return (value: string) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}.`);
    return parsed.data;
  };
}

/** `--since 24h` (also `90s`, `30m`, `7d`, `2w`) or an ISO-8601 time: the moment it names (src/replay/since.ts's rule). */
export function sinceTime(name: string, now: () => number = Date.now): (value: string) => Date {
  return (value: string) => {
    const parsed = parseSince(value, new Date(now()));
    if (typeof parsed === 'string') throw new InvalidArgumentError(`${parsed.replace(/^--since/, name)}.`);
    return parsed;
  };
}

import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

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

const DURATION = /^([0-9]+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** An ISO-8601 date or date-time, e.g. `2026-05-03` or `2026-05-03T17:05:31Z`. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--since 24h` (also `90s`, `30m`, `7d`) or an ISO-8601 time: the moment it names. */
export function sinceTime(name: string, now: () => number = Date.now): (value: string) => Date {
  return (value: string) => {
    const d = DURATION.exec(value);
    if (d) return new Date(now() - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS]);
    const t = ISO.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(t)) throw new InvalidArgumentError(`${name} must be a duration such as 24h, 30m, 7d or 90s, or an ISO-8601 time such as 2026-05-03T17:05:31Z.`);
    return new Date(t);
  };
}

/** Relative windows: 90s, 30m, 24h, 7d, 2w. */
const RELATIVE = /^([0-9]+)([smhdw])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** An ISO-8601 date, optionally with a time and zone (what `Date` parses unambiguously). */
const ISO = /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/;

/** `--since 24h` or `--since 2026-12-01T00:00:00Z`: the start of the window, or a message saying what is wrong. */
export function parseSince(value: string, now: Date = new Date()): Date | string {
  const rel = RELATIVE.exec(value.trim());
  if (rel) {
    const ms = Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    if (!Number.isSafeInteger(ms) || ms <= 0) return `--since ${value}: expected a window greater than zero`;
    return new Date(now.getTime() - ms);
  }
  if (ISO.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (Number.isNaN(t)) return `--since ${value}: not a valid date`;
    return new Date(t);
  }
  return `--since ${value}: expected a window such as 90s, 30m, 24h, 7d, 2w, or an ISO-8601 time such as 2026-12-01T00:00:00Z`;
}

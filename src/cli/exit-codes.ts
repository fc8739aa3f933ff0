/**
 * The exit codes of every dockmedic command (README "Exit codes"). Scripts branch on these,
 * so a command never invents its own: 0 done, 1 done and the answer is bad (a drill failed, a
 * chain is broken, the gateway refused), 2 nothing was done because the input was wrong,
 * 3 nothing was done because something it needs did not answer, 4 nothing was done on purpose.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2, unavailable: 3, skipped: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

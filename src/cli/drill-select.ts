import { CliError } from './errors';
import type { ScenarioName } from '../contract/drill';
import { SCENARIO_NAMES } from '../contract/drill';
import { EXIT } from './exit-codes';

/** Exit codes of `drill run`: every scenario passed, some failed, bad input, the drill skipped. */
export const DRILL_EXIT = { passed: EXIT.ok, failed: EXIT.failed, usage: EXIT.badInput, skipped: EXIT.skipped } as const;

/** The scenarios named on the command line, in catalogue order; none named = the whole catalogue. */
export function selectScenarios(names: readonly string[]): ScenarioName[] {
  const unknown = names.filter((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new CliError(`unknown scenario ${unknown.join(', ')}; the catalogue has: ${SCENARIO_NAMES.join(', ')}`, DRILL_EXIT.usage, 'unknown_scenario');
  return names.length === 0 ? [...SCENARIO_NAMES] : SCENARIO_NAMES.filter((n) => names.includes(n));
}


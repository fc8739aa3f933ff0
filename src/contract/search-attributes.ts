import { defineSearchAttributeKey } from '@temporalio/common';

/** The Keyword search attributes an incident sets, so the Temporal UI and visibility queries can filter incidents. */
export const SA = {
  container: defineSearchAttributeKey('DockmedicContainer', 'KEYWORD'),
  host: defineSearchAttributeKey('DockmedicHost', 'KEYWORD'),
  failure: defineSearchAttributeKey('DockmedicFailure', 'KEYWORD'),
  decision: defineSearchAttributeKey('DockmedicDecision', 'KEYWORD'),
  outcome: defineSearchAttributeKey('DockmedicOutcome', 'KEYWORD'),
  /** The drill id, on a drill's incidents only (set at start by the watcher): `incidents list` hides them unless --drills. */
  drill: defineSearchAttributeKey('DockmedicDrill', 'KEYWORD'),
} as const;

/** Names for `temporal operator search-attribute create` and the dev server's `--search-attribute`. */
export const SEARCH_ATTRIBUTE_NAMES = Object.values(SA).map((k) => k.name);

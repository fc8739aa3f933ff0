import type { Client } from '@temporalio/client';
import type OpenAI from 'openai';
import type { GatewayClient } from '../src/gateway-client';
import type { ProcessMetrics } from '../src/metrics/process-metrics';
import type { Notifier } from './notifier';

/** What the activities need, handed in by whoever builds the worker (and by tests). */
export interface ActivityDeps {
  /** The signed gateway client: the only way activities reach Docker. */
  gateway: Pick<GatewayClient, 'call'>;
  /** A Temporal client, for visibility queries (past incidents of a container). */
  temporal: Pick<Client, 'workflow'>;
  /** Where escalations go (webhook + structured log). */
  notifier: Notifier;
  /**
   * Where a drill incident's escalations go: the log, or DOCKMEDIC_DRILL_WEBHOOK_URL. Never the
   * real notifier (docs/architecture.md §6); absent = the log only.
   */
  drillNotifier?: Notifier;
  settings?: ActivitySettings;
  /** The model that advises (issue 4); absent = policy mode, `diagnoseIncident` says so and the policy decides. */
  llm?: LlmDeps;
  /** The process's metrics (docs/architecture.md §9): pages sent are counted here. */
  metrics?: Pick<ProcessMetrics, 'page'>;
}

/** The worker's view of the model: a client whose base URL is the gateway's LLM proxy (it never holds the API key). */
export interface LlmDeps {
  /** From `createOpenAiClient` (maxRetries 0, every request signed by `gatewaySignedFetch`). */
  openai: OpenAI;
  /** DOCKMEDIC_MODEL. */
  model: string;
  /** DOCKMEDIC_LLM_MAX_TURNS: model calls per diagnosis, the answer included. */
  maxTurns: number;
  /** DOCKMEDIC_LLM_MAX_TOKENS: tokens per diagnosis, summed over its calls. */
  maxTokens: number;
  /** Bytes of each quoted tool result shown to the model (default 8 KiB). */
  toolResultBytes?: number;
}

export interface ActivitySettings {
  /** Temporal UI base URL, e.g. http://127.0.0.1:8233; the incident's input may also carry one. */
  uiUrl?: string;
  /** Log lines kept from one fetch (the last ones). */
  logMaxLines?: number;
  /** Characters kept per log line. */
  logMaxLineChars?: number;
  /** Characters kept over all lines: history stays small. */
  logMaxChars?: number;
}

export const DEFAULT_ACTIVITY_SETTINGS = {
  logMaxLines: 40,
  logMaxLineChars: 240,
  logMaxChars: 4096,
} as const;

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { ContainerRef } from '../contract/container';
import { RESPONSE_ACTIONS } from '../contract/incident';
import { INCIDENT_LIMITS } from '../contract/incident-input';
import { NotWaitingError } from '../cli/errors';
import { incidentDetail } from '../cli/incident-detail';
import { sendResponse } from '../cli/incident-respond';
import { IncidentNotFoundError, listIncidents, NoWorkerError } from '../cli/incident-view';
import { toolError, toolResult } from './tool-result';

/**
 * Incident tools (docs/architecture.md §4): the same reads and the same respond signal as
 * `dockmedic incidents list|show` and `dockmedic respond`, through the same functions.
 */

/** Who answers through MCP is recorded as `mcp:<by>`, within the response's `by` limit. */
export const MCP_RESPONDER_PREFIX = 'mcp:';

const IncidentId = z.string().regex(/^incident-[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, 'expected an incident id (incident-<host>-<container>)');

export const ListIncidentsArgs = z
  .object({
    open: z.boolean().optional().describe('only incidents still open'),
    container: ContainerRef.optional().describe('only incidents of this container (its name)'),
    limit: z.number().int().min(1).max(200).default(50).describe('at most this many'),
    drills: z.boolean().optional().describe("include drills' incidents (hidden by default)"),
  })
  .strict();
export const ShowIncidentArgs = z.object({ id: IncidentId }).strict();
export const RespondIncidentArgs = z
  .object({
    id: IncidentId,
    action: z.enum(RESPONSE_ACTIONS).describe('approve runs the proposed remedy through the gateway; reject closes with no action; acknowledge stops the paging; resolve closes as resolved by a person'),
    by: z
      .string()
      .regex(new RegExp(`^[\\w.@ -]{1,${INCIDENT_LIMITS.responseByChars - MCP_RESPONDER_PREFIX.length}}$`), 'letters, digits, space, . _ @ -')
      .describe(`who answers; recorded as ${MCP_RESPONDER_PREFIX}<by>`),
    comment: z.string().max(INCIDENT_LIMITS.responseCommentChars).optional(),
  })
  .strict();

export interface IncidentToolDeps {
  config: Config;
  /** A Temporal client, connected on first use (the gateway tools work without Temporal). */
  temporal: () => Promise<Client>;
}

/** A known failure of the incident functions as an error result with its code; anything else is Temporal failing. */
function incidentError(err: unknown) {
  if (err instanceof IncidentNotFoundError) return toolError({ error: { code: 'incident_not_found', message: err.message } });
  if (err instanceof NoWorkerError) return toolError({ error: { code: 'no_worker', message: err.message } });
  if (err instanceof NotWaitingError) return toolError({ error: { code: err.code, message: err.message } });
  return toolError({ error: { code: 'temporal_unavailable', message: `Temporal: ${(err as Error).message}` } });
}

async function withTemporal(deps: IncidentToolDeps, fn: (client: Client) => Promise<object>) {
  try {
    return toolResult(await fn(await deps.temporal()));
  } catch (err) {
    return incidentError(err);
  }
}

export function registerIncidentTools(server: McpServer, deps: IncidentToolDeps, opts: { allowMutating: boolean }): void {
  const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
  server.registerTool(
    'list_incidents',
    { title: 'List incidents', description: 'Incidents from Temporal, as `dockmedic incidents list --json`: open ones first, then the most recently closed.', inputSchema: ListIncidentsArgs, annotations: readOnly },
    (args: z.output<typeof ListIncidentsArgs>) =>
      withTemporal(deps, async (client) => {
        const { rows, unanswered } = await listIncidents(client, args);
        return { incidents: rows, unanswered };
      }),
  );
  server.registerTool(
    'show_incident',
    {
      title: 'Show an incident',
      description: 'One incident, as `dockmedic incidents show --json`: facts, decision and rule, model proposal, decision chain, pending escalation, responses, Temporal UI link.',
      inputSchema: ShowIncidentArgs,
      annotations: readOnly,
    },
    (args: z.output<typeof ShowIncidentArgs>) => withTemporal(deps, async (client) => (await incidentDetail(client, deps.config, args.id)).detail),
  );
  if (!opts.allowMutating) return;
  server.registerTool(
    'respond_incident',
    {
      title: 'Answer an escalation',
      description: `The respond signal of \`dockmedic respond\`, sent only when the incident is waiting for this answer (else not_waiting, nothing sent). Recorded as by ${MCP_RESPONDER_PREFIX}<by>.`,
      inputSchema: RespondIncidentArgs,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    (args: z.output<typeof RespondIncidentArgs>) =>
      withTemporal(deps, async (client) => {
        const sent = await sendResponse(client, args.id, { action: args.action, by: `${MCP_RESPONDER_PREFIX}${args.by}`, comment: args.comment });
        return { id: args.id, sent };
      }),
  );
}

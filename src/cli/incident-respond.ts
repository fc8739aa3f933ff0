import type { Client } from '@temporalio/client';
import type { Response, ResponseAction } from '../contract/incident';
import { respondSignal } from '../contract/signals';
import { NotWaitingError } from './errors';
import { describeIncident, NO_WORKER, NoWorkerError, queryState } from './incident-view';

/** Who may be named as the responder (`--by`, and the MCP tool's `by` after its `mcp:` prefix). */
export const RESPONDER_PATTERN = /^[\w.@ -]{1,64}$/;

/**
 * The respond signal, sent only to an incident that is waiting for exactly this answer
 * (docs/architecture.md §3: the `state` query is checked first, so a response the incident
 * would skip is never sent). Used by `dockmedic respond` and the MCP tool `respond_incident`.
 */
export async function sendResponse(client: Client, id: string, answer: { action: ResponseAction; by: string; comment?: string | undefined }): Promise<Response> {
  const handle = client.workflow.getHandle(id);
  const desc = await describeIncident(handle, id);
  if (desc.status.name !== 'RUNNING') throw new NotWaitingError(`incident ${id} is closed (${desc.status.name.toLowerCase()}); nothing to answer`);
  const state = await queryState(client, id);
  if (!state) throw new NoWorkerError(`cannot tell whether incident ${id} is waiting: ${NO_WORKER}; nothing was sent`);
  const pending = state.pendingEscalation;
  if (!pending) throw new NotWaitingError(`incident ${id} is not waiting for a response (phase ${state.phase})`);
  if (!pending.waitingFor.includes(answer.action)) {
    throw new NotWaitingError(`incident ${id} is waiting for ${pending.waitingFor.join(' | ')}, not ${answer.action}`);
  }
  const response: Response = { action: answer.action, by: answer.by, ...(answer.comment ? { comment: answer.comment } : {}), at: new Date().toISOString() };
  await handle.signal(respondSignal, response);
  return response;
}

import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { IncidentState } from '../contract/incident';
import type { StormState } from '../contract/storm';
import { workflowUiUrl } from '../runtime/temporal';
import type { IncidentSummary } from './incident-view';
import { getIncidentState } from './incident-view';

/**
 * One incident as `dockmedic incidents show --json` prints it and the MCP tool `show_incident`
 * returns it: the summary from visibility, then the state's parts (null where an incident closed
 * without a result that no worker can replay: `note` says why).
 */
export type IncidentDetail = IncidentSummary & {
  state?: null;
  note?: string | null;
  facts?: IncidentState['facts'] | null;
  rule?: string | null;
  decisionDetail?: IncidentState['decision'] | null;
  finalAction?: IncidentState['finalAction'] | null;
  proposal?: IncidentState['proposal'] | null;
  disagreement?: IncidentState['disagreement'] | null;
  diagnosis?: IncidentState['diagnosis'] | null;
  decisionChain?: IncidentState['decisionChain'];
  responses?: IncidentState['responses'];
  pendingEscalation?: IncidentState['pendingEscalation'] | null;
  observations?: IncidentState['observations'];
  notes?: string[];
  /** The earlier run the quiet period held this incident back after (docs/architecture.md §3). */
  quietAfter?: IncidentState['quietAfter'] | null;
  /** Shadow mode: what would have been done. */
  wouldDo?: IncidentState['wouldDo'] | null;
  /** The storm this incident pages through, or (for a storm) its members (docs/architecture.md §3). */
  stormId?: string | null;
  storm?: StormState['storm'] | null;
  uiUrl: string;
};

export async function incidentDetail(client: Client, config: Config, id: string): Promise<{ detail: IncidentDetail; state: IncidentState | null; summary: IncidentSummary; note: string | null; uiUrl: string }> {
  const { summary, state, note } = await getIncidentState(client, id);
  const uiUrl = workflowUiUrl(config, id);
  if (!state) return { detail: { ...summary, state: null, note, uiUrl }, state, summary, note, uiUrl };
  const detail: IncidentDetail = {
    ...summary,
    facts: state.facts ?? null,
    rule: state.decision?.rule ?? null,
    decisionDetail: state.decision ?? null,
    finalAction: state.finalAction ?? null,
    proposal: state.proposal ?? null,
    disagreement: state.disagreement ?? null,
    diagnosis: state.diagnosis ?? null,
    decisionChain: state.decisionChain,
    responses: state.responses,
    pendingEscalation: state.pendingEscalation ?? null,
    observations: state.observations,
    notes: state.notes,
    quietAfter: state.quietAfter ?? null,
    wouldDo: state.wouldDo ?? null,
    stormId: state.stormId ?? null,
    storm: (state as Partial<StormState>).storm ?? null,
    uiUrl,
  };
  return { detail, state, summary, note, uiUrl };
}

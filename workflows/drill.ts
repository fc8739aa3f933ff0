import { CancellationScope, getExternalWorkflowHandle, isCancellation, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities, IncidentWait } from '../activities';
import type { DrillInput, DrillResult, ScenarioCard } from '../src/contract/drill';
import { DRILL_RESPONDER, drillProgressQuery } from '../src/contract/drill';
import { incidentWorkflowId } from '../src/contract/incident';
import { respondSignal } from '../src/contract/signals';
import { expectedText, scoreScenario } from '../src/drills/score';
import type { Observed } from '../src/drills/score';
import type { Scenario } from '../src/drills/scenarios';
import { scenario as catalogue } from '../src/drills/scenarios';
import { ACTIVITY_OPTIONS } from './activity-options';
import { failureOf } from './decision-chain';

const drill = proxyActivities<Activities>(ACTIVITY_OPTIONS.drill);
const waiting = proxyActivities<Activities>(ACTIVITY_OPTIONS.drillWait);
const read = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerRead);
const notify = proxyActivities<Activities>(ACTIVITY_OPTIONS.notify);

/** How long a scenario that must open no incident is watched for one. */
const QUIET_SECONDS = 8;
/** How long a drill waits for its incident to open (they open within seconds of the failure), then to move on. */
const INCIDENT_WAIT_SECONDS = 45;
/** Docker's clock and the workflow's may differ a little: events are read from a bit earlier. */
const EVENT_MARGIN_MS = 5_000;

/**
 * A drill (docs/architecture.md §6): for each scenario, build its container through the gateway,
 * wait for the incident the watcher opens (or, for scenarios that must open none, watch a quiet
 * period), answer its escalations as the drill responder so no person is paged, judge it by
 * effect, and remove the container — also when the scenario fails or the drill is cancelled.
 * Skips, saying why, while another drill or a real incident is open on the host.
 */
export async function drillWorkflow(input: DrillInput): Promise<DrillResult> {
  const self = workflowInfo().workflowId;
  const drillId = input.drillId ?? `s${workflowInfo().runId.replace(/-/g, '').slice(0, 12)}`;
  const result: DrillResult = {
    drillId,
    host: input.host,
    startedAt: new Date().toISOString(),
    cards: input.scenarios.map((name) => ({ scenario: name, status: 'pending', expected: expectedText(catalogue(name)) })),
    passed: false,
  };
  setHandler(drillProgressQuery, () => result);

  const others = await drill.otherRunningDrills(input.host, self);
  if (others.length > 0) return skip(result, `another drill is running on ${input.host} (${others.join(', ')})`);
  await sweep(drillId);

  try {
    for (const card of result.cards) {
      const open = await drill.openRealIncidents(input.host);
      if (open > 0) {
        skip(result, `${open} real incident(s) open on ${input.host}: a drill never competes with them`);
        break;
      }
      await runScenario(input.host, drillId, card);
    }
  } finally {
    // Whatever happened (a failed scenario, a cancelled drill), nothing of this drill is left behind.
    await CancellationScope.nonCancellable(() => sweep(null));
  }
  result.finishedAt = new Date().toISOString();
  result.passed = result.skipped === undefined && result.cards.every((c) => c.pass === true);
  if (input.scheduled && !result.passed && result.skipped === undefined) await notify.notifyDrillFailed(result, self);
  return result;
}

function skip(result: DrillResult, why: string): DrillResult {
  result.skipped = why;
  for (const c of result.cards) {
    if (c.status !== 'pending') continue;
    c.status = 'skipped';
    c.why = why;
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

/** Remove this host's drill containers: those of earlier drills (`keep` = this drill's id), or all of them. */
async function sweep(keep: string | null): Promise<void> {
  for (const c of await drill.listDrillContainers()) {
    if (c.drillId !== keep) await drill.removeDrillContainer(c.id);
  }
}

async function runScenario(host: string, drillId: string, card: ScenarioCard): Promise<void> {
  const s = catalogue(card.scenario);
  card.status = 'running';
  const since = new Date(Date.now() - EVENT_MARGIN_MS).toISOString();
  let containerId: string | null = null;
  try {
    const made = await drill.createDrillContainer(drillId, s.name);
    containerId = made.id;
    card.container = made.name;
    card.incidentId = incidentWorkflowId(host, made.name);
    const observed = await observe(s, made.id, card.incidentId, since);
    if (observed.incidentRunId) card.incidentRunId = observed.incidentRunId;
    Object.assign(card, scoreScenario(s, card.incidentId, observed, s.container.memoryBytes ?? 0));
  } catch (err) {
    if (isCancellation(err)) throw err;
    card.pass = false;
    card.why = `the drill could not run the scenario: ${failureOf(err).message}`;
  } finally {
    if (containerId !== null) {
      const id = containerId;
      await CancellationScope.nonCancellable(() => drill.removeDrillContainer(id));
    }
    card.status = card.pass === true ? 'passed' : 'failed';
  }
}

async function observe(s: Scenario, id: string, incidentId: string, since: string): Promise<Observed> {
  const base = { drillWorkflowId: workflowInfo().workflowId, scheduled: {}, final: null, events: [] };
  if (s.container.operatorStopAfterMs !== undefined) {
    await sleep(s.container.operatorStopAfterMs);
    await drill.stopDrillContainer(id);
  }
  if (!s.expect.incident) {
    await sleep(QUIET_SECONDS * 1000);
    const w = await waiting.awaitIncident(incidentId, 1);
    return { ...base, incident: w.status === 'none' ? null : w.state, audit: await drill.drillAudit(id) };
  }
  let w: IncidentWait = await waiting.awaitIncident(incidentId, INCIDENT_WAIT_SECONDS);
  if (w.status === 'escalated') {
    // The drill is the only responder a drill incident has: no person is ever asked. One answer
    // closes it (reject is always among the answers an escalation waits for).
    await getExternalWorkflowHandle(incidentId, w.runId).signal(respondSignal, {
      action: 'reject',
      by: DRILL_RESPONDER,
      comment: 'drill: no action is taken on a drill container beyond what dockmedic did by itself',
      at: new Date().toISOString(),
    });
    w = await waiting.awaitIncident(incidentId, INCIDENT_WAIT_SECONDS, true);
  }
  if (w.status === 'none') return { ...base, incident: null, audit: await drill.drillAudit(id) };
  const info = await read.inspectContainer(id);
  return {
    ...base,
    incidentRunId: w.runId,
    incident: w.state,
    audit: await drill.drillAudit(id),
    scheduled: await drill.incidentActivityCounts(incidentId, w.runId),
    final: { running: info.running, memoryBytes: info.memoryBytes, ...(info.health ? { health: info.health } : {}) },
    events: await drill.drillContainerEvents(id, since),
  };
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LOG_INJECTION_LINES, scenario } from '../../src/drills/scenarios';
import { runScenarioContainer } from '../helpers/scenario';
import type { ScriptedLlm } from '../helpers/scripted-llm';
import { startScriptedLlm } from '../helpers/scripted-llm';
import { docker } from '../helpers/stack';
import type { E2eStack } from './harness';
import { auditRecordsFor, closedIncident, mutatingCallsFor, runCli, scheduledActivities, startE2eStack } from './harness';

/**
 * docs/architecture.md §6 scenario 10 (`log-injection`) on the real stack in advisor mode: dockmedic's gateway,
 * worker and watcher as separate processes (the CLI), a scripted OpenAI-compatible upstream
 * behind the gateway's LLM proxy, and a model that obeys the instructions planted in the
 * container's logs. The container must get exactly the policy's treatment.
 */

const API_KEY = `sk-test-e2e-${randomBytes(16).toString('hex')}`;
let llm: ScriptedLlm;
let stack: E2eStack;

describe('scenario 10: log-injection with a model that obeys it', { timeout: 300_000 }, () => {
  before(async () => {
    llm = await startScriptedLlm(() => ({ obey: true }));
    stack = await startE2eStack({ DOCKMEDIC_MODEL: 'scripted', OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: API_KEY });
  });
  after(async () => {
    await stack?.close();
    await llm?.close();
  });

  it('exactly the policy treatment (one restart, no memory update, no call for another container); incidents show has the proposal and the disagreement', async () => {
    const s = scenario('log-injection');
    const name = `${stack.runId}-${s.name}`;
    const id = await runScenarioContainer({ name, cmd: s.container.cmd, labels: { 'dockmedic.enable': 'true' } });
    const workflowId = stack.incidentId(name);
    const state = await closedIncident(stack.client, workflowId, 90_000);

    // The model did obey: it read the logs, asked for the injected actions and proposed them.
    const calls = llm.completions();
    assert.ok(calls.length >= 2, 'the model was consulted through the gateway');
    assert.ok(calls.some((r) => r.rawBody.includes(LOG_INJECTION_LINES[1].slice(0, 60))), 'the planted instructions reached the model (quoted as data)');
    assert.ok(state.diagnosis?.toolCalls.some((c) => c.tool === 'restart_container' && c.container === 'dockmedic-gateway'), 'it asked to restart dockmedic-gateway');
    assert.equal(state.proposal?.proposedAction, 'raise_memory');

    // … and the container got exactly the policy's treatment.
    assert.equal(state.outcome, s.expect.outcome, state.notes.join(' | '));
    assert.equal(state.finalAction, s.expect.decision);
    assert.equal(state.decision?.action, s.expect.decision);
    const audited = mutatingCallsFor(stack.audit(), name);
    const scheduled = await scheduledActivities(stack.client, workflowId);
    assert.deepEqual(audited, { restart_container: 1, start_container: 0, update_container_resources: 0 });
    assert.equal(scheduled.restartContainer, 1);
    assert.equal(scheduled.raiseMemory ?? 0, 0);
    assert.equal(scheduled.startContainer ?? 0, 0);
    const info = await docker().getContainer(id).inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.HostConfig.Memory, 0, 'memory untouched');

    // No request for any other container reached the gateway: every container-addressed record is this one's.
    const audit = stack.audit();
    const own = new Set(auditRecordsFor(audit, name).map((r) => r.requestId));
    for (const r of audit) {
      const ref = (r.args as { container?: string } | null)?.container;
      if (ref === undefined) continue;
      assert.ok(own.has(r.requestId) || ref === id, `a gateway call for another container: ${r.tool} ${ref}`);
    }
    assert.ok(audit.some((r) => r.tool === 'llm.chat.completions' && r.verdict === 'allowed'), 'the model calls went through the gateway');

    // `incidents show --json` (the CLI) shows the proposal, the policy's decision and the disagreement.
    const shown = runCli(stack, ['incidents', 'show', workflowId, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const json = JSON.parse(shown.stdout) as {
      proposal: { proposedAction: string; rationale: string } | null;
      disagreement: { policy: string; model: string; final: string } | null;
      finalAction: string;
      diagnosis: { weighed: boolean; disregarded?: string } | null;
    };
    assert.equal(json.proposal?.proposedAction, 'raise_memory');
    assert.deepEqual(json.disagreement, { policy: 'restart', model: 'raise_memory', final: 'restart' });
    assert.equal(json.finalAction, 'restart');
    assert.equal(json.diagnosis?.weighed, false);
    const text = runCli(stack, ['incidents', 'show', workflowId]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /disagreement: policy said restart, model proposed raise_memory; final action restart/);

    // doctor says advisor mode and that the gateway has an upstream.
    const doctor = runCli(stack, ['doctor', '--json']);
    const advisor = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'advisor');
    assert.equal(advisor?.ok, true, advisor?.detail);
    assert.match(advisor?.detail ?? '', /^advisor mode/);

    // The key reached the upstream, and nothing else: not the history, the audit, or any process output.
    assert.ok(calls.every((r) => r.headers.authorization === `Bearer ${API_KEY}`));
    const history = JSON.stringify(await stack.client.workflow.getHandle(workflowId).fetchHistory());
    assert.ok(history.length > 1000, 'a real history');
    assert.ok(!history.includes(API_KEY), 'key in the workflow history');
    assert.ok(!readFileSync(stack.auditFile, 'utf8').includes(API_KEY), 'key in the gateway audit');
    for (const p of [stack.gateway, stack.worker, stack.watcher]) {
      assert.ok(p.output().length > 0);
      assert.ok(!p.output().includes(API_KEY), `key in the output of ${p.name}`);
    }
    for (const out of [shown.stdout, shown.stderr, doctor.stdout, doctor.stderr]) assert.ok(!out.includes(API_KEY));
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { slackPayload } from '../../activities/notifier';
import { ACTIVITY_OPTIONS, llmActivityOptions } from '../../workflows/activity-options';
import type { DiagnosisResult } from '../../src/contract/diagnosis';
import type { EscalationNotice } from '../../src/contract/escalation-notice';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/contract/failures';
import { LLM_TRANSPORT_ERROR_TYPES } from '../../src/llm';
import { adviceFrom } from '../../src/policy';

const PROPOSAL = { failureType: 'exit', proposedAction: 'restart', rationale: 'exit 1 after <b>boom</b>', confidence: 0.7, evidence: ['fatal: ```boom``` & more'] } as const;

function result(over: Partial<DiagnosisResult> = {}): DiagnosisResult {
  return { ok: true, model: 'm', proposal: { ...PROPOSAL, evidence: [...PROPOSAL.evidence] }, turns: 2, tokens: 900, toolCalls: [], attemptedTools: [], otherContainers: [], stoppedAtTurnLimit: false, attempt: 1, ...over } as DiagnosisResult;
}

void describe('adviceFrom: which proposals the gate may weigh', () => {
  void it('a plain proposal is weighed', () => {
    assert.deepEqual(adviceFrom(result()), { use: true, proposal: result().proposal });
  });

  void it('reading another container (refused before any call) does not void the advice: the gate can only make it more conservative', () => {
    assert.equal(adviceFrom(result({ otherContainers: ['ghost-db'] }))?.use, true);
  });

  void it('a model that asked for a tool it was never offered is not weighed, but its proposal is kept for people', () => {
    const a = adviceFrom(result({ attemptedTools: ['restart_container'] }));
    assert.equal(a?.use, false);
    assert.equal(a?.proposal?.proposedAction, 'restart');
    assert.match(a && !a.use ? a.why : '', /restart_container/);
  });

  void it('no proposal → no advice', () => {
    assert.equal(adviceFrom(result({ ok: false, proposal: undefined, reason: 'malformed' })), null);
  });
});

void describe('the llm activity option set', () => {
  void it('bounded attempts, transport errors retryable, timeouts scaled to the turn budget', () => {
    assert.equal(ACTIVITY_OPTIONS.llm.retry.maximumAttempts, 3);
    for (const t of LLM_TRANSPORT_ERROR_TYPES) assert.ok(!(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(t), `${t} must stay retryable`);
    const o = llmActivityOptions(3, 30);
    assert.equal(o.startToCloseTimeout, '150s');
    assert.equal(o.scheduleToCloseTimeout, `${150 * 3 + 60}s`);
    assert.equal(llmActivityOptions(1, 2).startToCloseTimeout, '42s');
  });
});

void describe('escalation notification with model advice', () => {
  const notice: EscalationNotice = {
    incidentId: 'incident-h-web',
    host: 'h',
    container: 'web',
    containerId: 'c0ffee000001',
    failure: 'crashloop',
    rule: 'crashloop',
    reason: 'crash loop',
    level: 1,
    levels: 2,
    levelName: 'oncall',
    timeoutSeconds: 300,
    evidence: ['exit code 1'],
    recommendedAction: 'restart',
    recommendation: 'restart web',
    waitingFor: ['approve', 'reject', 'acknowledge', 'resolve'],
  };

  void it('carries the rationale and quoted evidence, escaped, with what the gate made of it', () => {
    const payload = slackPayload({
      notice: { ...notice, advice: { model: 'm', verdict: 'disagrees', ...PROPOSAL, evidence: [...PROPOSAL.evidence], note: 'the policy escalation stands' } },
      commands: ['dockmedic respond incident-h-web ack --by NAME'],
      attempt: 1,
    });
    const all = JSON.stringify(payload.blocks);
    assert.match(payload.text, /Model m: proposed restart/);
    assert.match(payload.text, /Model rationale: exit 1 after <b>boom<\/b>/);
    assert.match(payload.text, /Model evidence: fatal:/);
    assert.ok(all.includes('exit 1 after &lt;b&gt;boom&lt;/b&gt;'), 'mrkdwn-escaped');
    assert.ok(!all.includes('```boom```'), 'a fence inside model text cannot close the quote');
    assert.ok(all.includes('the policy escalation stands'));
  });

  void it('without advice (policy mode) there is no model section', () => {
    const payload = slackPayload({ notice, commands: [], attempt: 1 });
    assert.equal(payload.blocks.length, 3);
    assert.doesNotMatch(payload.text, /Model/);
  });
});

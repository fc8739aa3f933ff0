import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { IncidentInput, IncidentState } from '../../src/contract/incident';
import { incidentMetricsSinks } from '../../src/metrics/incident-sinks';
import { ProcessMetrics } from '../../src/metrics/process-metrics';
import { parsePrometheusText, sampleSum } from '../helpers/prometheus-text';

/** docs/architecture.md §9: label values come from fixed sets, whatever a caller or a container sent. */
describe('metrics labels stay bounded', () => {
  it('caller-chosen tool paths, unknown codes, event text and odd level names collapse to fixed values', async () => {
    const m = new ProcessMetrics();
    m.gatewayRequest({ tool: 'x'.repeat(64), verdict: 'refused', code: 'unknown_tool', totalMs: 1 });
    m.gatewayRequest({ tool: null, verdict: 'refused', code: 'not_found', totalMs: 1 });
    m.gatewayRequest({ tool: 'restart_container', verdict: 'refused', code: 'no such code', totalMs: 1 });
    m.watcherEvent('exec_start: sh -c "echo s3cret-token"', 'drop');
    m.watcherEvent('health_status: unhealthy', 'open');
    m.watcherEvent('something-new', 'drop');
    m.page('level with spaces');
    const text = await m.registry.metrics();
    const s = parsePrometheusText(text);
    assert.ok(!text.includes('s3cret') && !text.includes('xxxx'), 'no caller or container text in the scrape');
    assert.equal(sampleSum(s, 'dockmedic_gateway_requests_total', { tool: 'unknown', code: 'unknown_tool' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_gateway_requests_total', { tool: 'none', code: 'not_found' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_gateway_requests_total', { tool: 'restart_container', code: 'other' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_watcher_events_total', { action: 'exec_start', verdict: 'drop' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_watcher_events_total', { action: 'health_status', verdict: 'open' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_watcher_events_total', { action: 'other' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_pages_total', { level: 'other' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_gateway_pipeline_seconds_count'), 3);
  });

  it('the incident sink counts real incidents, not drills, and times only auto-resolved ones', async () => {
    const m = new ProcessMetrics();
    const closed = incidentMetricsSinks(m).incidentMetrics.closed.fn;
    const info = {} as WorkflowInfo;
    const trigger = { kind: 'die', time: '2026-01-01T00:00:00.000Z', exitCode: 1 };
    const input = { host: 'h', container: 'web-1', containerId: 'abc', trigger } as unknown as IncidentInput;
    const resolved = {
      outcome: 'auto_resolved',
      decision: { failure: 'exit', action: 'restart' },
      finalAction: 'restart',
      decisionChain: [{ tool: 'restart_container', ok: true, at: '2026-01-01T00:00:01.000Z', args: {} }],
      observations: [{ kind: 'start', time: '2026-01-01T00:00:02.500Z' }],
    } as unknown as IncidentState;
    await closed(info, input, resolved);
    await closed(info, { ...input, drill: 'd1' } as IncidentInput, resolved);
    await closed(info, input, { ...resolved, outcome: 'unacknowledged', finalAction: 'escalate', decisionChain: [] } as unknown as IncidentState);
    const s = parsePrometheusText(await m.registry.metrics());
    assert.equal(sampleSum(s, 'dockmedic_incidents_total', { failure: 'exit', decision: 'restart', outcome: 'auto_resolved' }), 1, 'the drill is not counted');
    assert.equal(sampleSum(s, 'dockmedic_incidents_total', { failure: 'exit', decision: 'escalate', outcome: 'unacknowledged' }), 1);
    assert.equal(sampleSum(s, 'dockmedic_incident_mttr_seconds_count'), 1);
    assert.equal(sampleSum(s, 'dockmedic_incident_mttr_seconds_sum'), 2.5, 'the death to the start, by Docker times');
    assert.equal(incidentMetricsSinks(m).incidentMetrics.closed.callDuringReplay, false, 'replay never counts an incident again');
  });
});

/**
 * The recurrence memory of docs/architecture.md §3 against a real Temporal dev server (SQLite visibility):
 * `countRecentOomIncidents` counts this container's OOM incidents in the window, other runs only.
 * No mocks: the activity runs with its real Temporal client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities';
import { createActivities, createWebhookNotifier } from '../../activities';
import { INCIDENT_WORKFLOW_TYPE } from '../../src/contract/incident';
import { SA } from '../../src/contract/search-attributes';

function devServerPath(): string {
  const dir = process.env.DOCKMEDIC_TOOLS_DIR ?? '/opt/dockmedic/tools';
  const path = join(dir, 'venv', 'bin', 'temporal');
  if (!existsSync(path)) throw new Error(`Temporal CLI (dev server) not found at ${path}: run \`make setup\` (or set DOCKMEDIC_TOOLS_DIR)`);
  return path;
}

let env: TestWorkflowEnvironment;
before(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: devServerPath() }, searchAttributes: Object.values(SA), log: { format: 'pretty', level: 'error' } },
  });
});
after(async () => {
  await env?.teardown();
});

/** Start an incident that no worker runs: visibility is all this test needs. */
async function incident(id: string, container: string, failure: string | null, host = 'h1') {
  return env.client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
    taskQueue: 'nobody-polls-this',
    workflowId: id,
    args: [],
    typedSearchAttributes: [{ key: SA.container, value: container }, { key: SA.host, value: host }, ...(failure ? [{ key: SA.failure, value: failure }] : [])],
  });
}

void describe('recurrence memory from Temporal visibility', () => {
  void it('counts OOM incidents of this container and host inside the window, excluding the current run', async () => {
    const current = await incident('incident-h1-web', 'web', 'oom');
    await incident('incident-h1-web-earlier-1', 'web', 'oom');
    await incident('incident-h1-web-earlier-2', 'web', 'oom');
    await incident('incident-h1-web-exit', 'web', 'exit');
    await incident('incident-h1-api', 'api', 'oom');
    await incident('incident-h2-web', 'web', 'oom', 'h2');

    const deps: ActivityDeps = { gateway: {} as ActivityDeps['gateway'], temporal: env.client, notifier: createWebhookNotifier({ log: () => undefined }) };
    const acts = createActivities(deps);
    const actEnv = new MockActivityEnvironment({ workflowExecution: { workflowId: 'incident-h1-web', runId: current.firstExecutionRunId }, workflowNamespace: env.namespace ?? 'default' });

    // Visibility is eventually consistent: poll briefly for the expected count.
    let count = -1;
    for (let i = 0; i < 50 && count !== 2; i++) {
      count = await actEnv.run(acts.countRecentOomIncidents, 'h1', 'web', 3600, current.firstExecutionRunId);
      if (count !== 2) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(count, 2, 'two earlier OOM incidents of h1/web; not this run, not exits, not other containers or hosts');
    assert.equal(await actEnv.run(acts.countRecentOomIncidents, 'h1', '/web', 3600, 'some-other-run'), 3, 'a leading slash in the name is Docker noise');
    assert.equal(await actEnv.run(acts.countRecentOomIncidents, 'h1', 'db', 3600, 'x'), 0);
  });
});

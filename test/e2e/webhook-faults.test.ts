import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import type { WebhookMode, WebhookRecorder } from '../helpers/webhook';
import { startWebhookRecorder } from '../helpers/webhook';
import type { E2eStack } from './harness';
import { closedIncident, incidentPhase, startE2eStack, waitUntil } from './harness';

/**
 * The webhook down or slow (issue 12.1) on the real stack: pages are sent beside the ladder, not
 * awaited by it (docs/architecture.md §3), so a webhook that hangs or refuses connections does
 * not move the ladder's timers, and a page refused while the incident is open is delivered by
 * the notification's retries once the webhook is back.
 */
let stack: E2eStack;
let hook: WebhookRecorder;

before(async () => {
  hook = await startWebhookRecorder();
  stack = await startE2eStack({ DOCKMEDIC_WEBHOOK_URL: hook.url, DOCKMEDIC_STABILIZATION_SECONDS: '6' });
});

after(async () => {
  await stack?.close();
  await hook?.close();
});

const about = (name: string) => (body: string) => ((JSON.parse(body) as { text?: string }).text ?? '').includes(stack.incidentId(name));
const attemptsAbout = (name: string) => hook.attempts.filter((a) => about(name)(a.body));
const pagesAbout = (name: string) => hook.pages.filter(about(name)).length;

/** A container that fails, is restarted once and fails again: its incident escalates. */
async function failingTwice(name: string, ladder: string): Promise<{ escalatedAt: number }> {
  await stack.killWatcher();
  await stack.startWatcher({ DOCKMEDIC_LADDER: ladder });
  await runScenarioContainer({ name, cmd: 'exit 7', labels: { 'dockmedic.enable': 'true' } });
  const id = stack.incidentId(name);
  await waitUntil('the incident to escalate', async () => (await incidentPhase(stack.client, id)) === 'escalated', 30_000, 100);
  return { escalatedAt: Date.now() };
}

void describe('the webhook down or slow', () => {
  for (const mode of ['hang', 'reset'] as const satisfies readonly WebhookMode[]) {
    void it(`a webhook that ${mode === 'hang' ? 'never answers' : 'drops every connection'} leaves the ladder's timers as they are`, async () => {
      const name = `${stack.runId}-${mode}`;
      hook.mode = mode;
      try {
        // Two levels of 2 s: the incident closes about 4 s after it escalates. Awaiting a hung
        // page alone would add the notifier's 5 s timeout per level; a dropped one, its retries.
        const { escalatedAt } = await failingTwice(name, 'level-1:2,level-2:2');
        const state = await closedIncident(stack.client, stack.incidentId(name), 30_000);
        const tookMs = Date.now() - escalatedAt;
        assert.equal(state.outcome, 'unacknowledged', JSON.stringify(state.notes));
        assert.ok(tookMs < 8000, `escalated → closed took ${tookMs} ms; the ladder is 4 s`);
        const tried = attemptsAbout(name);
        assert.ok(tried.length >= 2, `both levels were tried (${tried.length} attempts)`);
        const gap = (tried[1]?.at ?? 0) - (tried[0]?.at ?? 0);
        assert.ok(gap >= 1000 && gap < 4000, `level 2 was tried ${gap} ms after level 1, not after level 1's page gave up`);
        assert.equal(pagesAbout(name), 0, 'nothing was delivered');
      } finally {
        hook.mode = 'ok';
        await docker().getContainer(name).remove({ force: true }).catch(() => undefined);
      }
    });
  }

  void it('pages refused while the incident is open are delivered once the webhook is back', async () => {
    const name = `${stack.runId}-recover`;
    hook.mode = 'fail';
    try {
      await failingTwice(name, 'level-1:2,level-2:60');
      await waitUntil('both levels to be refused', async () => attemptsAbout(name).length >= 2, 15_000);
      hook.mode = 'ok';
      // The notification's retries (2 s, then 4 s, 8 s …) deliver both pages; the ladder waits on.
      await waitUntil('both pages to be delivered', async () => pagesAbout(name) >= 2, 30_000);
      assert.equal(pagesAbout(name), 2, 'each level delivered once');
      assert.ok(attemptsAbout(name).some((a) => a.mode === 'fail'), 'a page was refused first');
      assert.equal(await incidentPhase(stack.client, stack.incidentId(name)), 'escalated', 'still waiting for level 2');
    } finally {
      hook.mode = 'ok';
      await docker().getContainer(name).remove({ force: true }).catch(() => undefined);
    }
    const state = await closedIncident(stack.client, stack.incidentId(name), 30_000);
    assert.equal(state.outcome, 'container_gone');
  });
});

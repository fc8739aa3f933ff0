import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { workflowOf } from './docker';
import type { NotifyResult } from './notifier';
import { createWebhookNotifier, respondCommands, temporalUiLink } from './notifier';
import type { EscalationNotice } from '../src/contract/escalation-notice';

export function createNotifyActivities(deps: ActivityDeps) {
  const logOnly = createWebhookNotifier({});
  return {
    /**
     * Page the current escalation level: a structured log line always, the webhook when configured.
     * Adds the exact CLI commands to answer and the Temporal UI link.
     */
    async notifyEscalation(notice: EscalationNotice): Promise<NotifyResult & { uiLink?: string }> {
      const wf = workflowOf();
      const uiUrl = notice.uiUrl ?? deps.settings?.uiUrl;
      const uiLink = uiUrl ? temporalUiLink(uiUrl, wf.namespace, wf.workflowId) : undefined;
      // A drill never pages a person: its notices have their own notifier, log-only by default.
      const notifier = notice.drill ? (deps.drillNotifier ?? logOnly) : deps.notifier;
      const result = await notifier.send({
        notice,
        commands: respondCommands(notice.incidentId, notice.waitingFor),
        ...(uiLink ? { uiLink } : {}),
        runId: wf.runId,
        attempt: Context.current().info.attempt,
      });
      // Counted once sent (a retried attempt that failed was no page); a drill's notice pages no one.
      if (!notice.drill) deps.metrics?.page(notice.levelName);
      return { ...result, ...(uiLink ? { uiLink } : {}) };
    },
  };
}

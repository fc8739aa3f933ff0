import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { workflowOf } from './docker';
import type { NotifyResult } from './notifier';
import { respondCommands, temporalUiLink } from './notifier';
import type { EscalationNotice } from '../src/contract/escalation-notice';

export function createNotifyActivities(deps: ActivityDeps) {
  return {
    /**
     * Page the current escalation level: a structured log line always, the webhook when configured.
     * Adds the exact CLI commands to answer and the Temporal UI link.
     */
    async notifyEscalation(notice: EscalationNotice): Promise<NotifyResult & { uiLink?: string }> {
      const wf = workflowOf();
      const uiUrl = notice.uiUrl ?? deps.settings?.uiUrl;
      const uiLink = uiUrl ? temporalUiLink(uiUrl, wf.namespace, wf.workflowId) : undefined;
      const result = await deps.notifier.send({
        notice,
        commands: respondCommands(notice.incidentId, notice.waitingFor),
        ...(uiLink ? { uiLink } : {}),
        attempt: Context.current().info.attempt,
      });
      return { ...result, ...(uiLink ? { uiLink } : {}) };
    },
  };
}

import { z } from 'zod';

/**
 * Alertmanager's webhook message, version 4 (its `notify/webhook` Message: the template data plus
 * `version`, `groupKey`, `truncatedAlerts`). Unknown fields are allowed (newer Alertmanagers add
 * some, e.g. `generatorURL` per alert); the fields dockmedic reads are checked. Sizes are bounded:
 * an alert is a trigger, and a trigger needs a few labels, not megabytes (docs/architecture.md §1).
 */
const LabelSet = z.record(z.string().max(256), z.string().max(4096));
const Status = z.enum(['firing', 'resolved']);

export const AlertmanagerAlert = z.object({
  status: Status,
  labels: LabelSet,
  annotations: LabelSet.default({}),
  startsAt: z.string().max(64),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(64).optional(),
});
export type AlertmanagerAlert = z.output<typeof AlertmanagerAlert>;

export const AlertmanagerWebhook = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(8192),
  truncatedAlerts: z.number().int().min(0).default(0),
  receiver: z.string().max(512),
  status: Status,
  alerts: z.array(AlertmanagerAlert).max(1000),
  groupLabels: LabelSet.default({}),
  commonLabels: LabelSet.default({}),
  commonAnnotations: LabelSet.default({}),
  externalURL: z.string().max(4096).default(''),
});
export type AlertmanagerWebhook = z.output<typeof AlertmanagerWebhook>;

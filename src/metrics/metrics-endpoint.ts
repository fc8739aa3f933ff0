import type { ProcessMetrics } from './process-metrics';
import type { ServiceListener } from '../runtime/service-listener';

export interface MetricsText {
  contentType: string;
  body: string;
}

/**
 * One scrape: the Temporal SDK's text first (so a failure to read it is already counted in the
 * registry's part), then the registry's. The SDK's names all start with `temporal_`, the
 * registry's with `dockmedic_`, `process_` or `nodejs_`: the two never define the same family.
 */
export async function renderMetrics(metrics: ProcessMetrics): Promise<MetricsText> {
  let sdk: string | null = null;
  try {
    sdk = await metrics.temporalSdk.read();
  } catch {
    metrics.temporalScrapeErrors.inc();
  }
  const own = await metrics.registry.metrics();
  const body = sdk ? `${own.endsWith('\n') ? own : `${own}\n`}${sdk.endsWith('\n') ? sdk : `${sdk}\n`}` : own;
  return { contentType: metrics.registry.contentType, body };
}

/** `GET /metrics` on the worker/watcher side's listener: unauthenticated, like /healthz (loopback unless configured). */
export function mountMetrics(listener: ServiceListener, metrics: ProcessMetrics): void {
  listener.route('GET', '/metrics', async (_req, res) => {
    const { contentType, body } = await renderMetrics(metrics);
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/**
 * The Temporal SDK's own worker metrics (task slots, poll and task latencies, sticky cache,
 * activity and workflow completions) come from its Rust core, which serves them itself in the
 * Prometheus text format on an address given to `Runtime.install` (docs/architecture.md §9). The
 * worker binds that exporter to a free loopback port, and `/metrics` reads it and appends it, so
 * a scrape of dockmedic's one endpoint sees both; the port itself is never advertised.
 */

/** Where this process's Temporal runtime serves its metrics, once the worker installed it. */
export class TemporalSdkMetrics {
  private url: string | null = null;

  /** Called by the worker after `Runtime.install` bound the exporter to `bindAddress`. */
  exporterBound(bindAddress: string): void {
    this.url = `http://${bindAddress}/metrics`;
  }

  get bound(): boolean {
    return this.url !== null;
  }

  /** The exporter's text, or null when none is bound here (a watcher-only process); throws when it does not answer. */
  async read(timeoutMs = 2000): Promise<string | null> {
    if (!this.url) return null;
    const res = await fetch(this.url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new Error(`the Temporal SDK metrics exporter answered ${res.status}`);
    return text;
  }
}

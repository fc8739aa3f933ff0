/**
 * Everything that enters workflow history, a notification or a log line from outside (model
 * text, container logs, error messages) is cut to a known size first; one helper so every cut
 * looks the same.
 */
export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A byte count as people read limits: `64 MiB`, `unlimited` for 0. */
export function formatBytes(n: number): string {
  if (n <= 0) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && Number.isInteger(v / 1024)) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

/** Keystone's timestamp format: 2026-11-24T17:10:11.123000Z (microseconds, UTC). */
export function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Parse an ISO-8601 timestamp (with or without Z); NaN when malformed. */
export function parseTime(s: string): number {
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`;
  return Date.parse(withZone);
}

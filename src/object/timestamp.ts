// Swift timestamps: seconds since the epoch with five decimals ("1765050291.12345"), strictly increasing within a
// process so that two writes of one name in the same instant are still ordered.

let last = 0;

/** A new timestamp as a number of 10-microsecond units since the epoch. */
function nextUnits(): number {
  const now = Date.now() * 100;
  last = now > last ? now : last + 1;
  return last;
}

/** A new normalized timestamp ("1765050291.12345"). */
export function newTimestamp(): string {
  const u = nextUnits();
  return `${Math.floor(u / 100000)}.${String(u % 100000).padStart(5, "0")}`;
}

/** Seconds (fractional) of a normalized timestamp. */
export const seconds = (ts: string): number => Number(ts);

/** The last second httpDate formatted, and its text (most answers are about objects written just before). */
let lastSecond = NaN;
let lastDate = "";

/** Last-Modified of a timestamp: its HTTP date, rounded up to the second as Swift does. */
export function httpDate(ts: string): string {
  const second = Math.ceil(Number(ts));
  if (second !== lastSecond) {
    lastDate = new Date(second * 1000).toUTCString();
    lastSecond = second;
  }
  return lastDate;
}

/** A listing's last_modified: ISO 8601 with microseconds and no zone ("2026-12-06T19:44:51.123450"). */
export function listingDate(ts: string): string {
  const [s, frac = "0"] = ts.split(".");
  const iso = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  return `${iso}.${frac.padEnd(6, "0").slice(0, 6)}`;
}

/** Parse an X-Timestamp-style value into a normalized timestamp, or null when it is not one. */
export function normalize(value: string): string | null {
  if (!/^\d{1,10}(\.\d+)?$/.test(value)) return null;
  const n = Number(value);
  if (!Number.isFinite(n)) return null;
  return n.toFixed(5).padStart(16, "0");
}

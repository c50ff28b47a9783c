import pino, { type Logger } from "pino";

/** Keys whose values never reach a log, at any depth (passwords, secrets, tokens, credential blobs). */
const SECRET_KEYS = new Set([
  "password",
  "original_password",
  "secret",
  "token",
  "id_token",
  "x-auth-token",
  "x-subject-token",
  "x-service-token",
  "blob",
  "adminpassword",
  "demopassword",
]);

/** Replace secret values anywhere in a log object (bounded depth, cycle-safe); other values are kept. */
export function scrub(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== "object" || depth > 12) return value;
  if (value instanceof Error || Buffer.isBuffer(value)) return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.has(k.toLowerCase())) out[k] = "***";
    else out[k] = scrub(v, depth + 1, seen);
  }
  return out;
}

/** Create the process logger (JSON lines; to a file when given); secrets are scrubbed from every line. */
export function createLogger(level: string, file = ""): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
  };
  return file ? pino(opts, pino.destination({ dest: file, mkdir: true, sync: false })) : pino(opts);
}

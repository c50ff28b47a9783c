import pino, { type Logger } from "pino";

/** Paths pino redacts everywhere: tokens, passwords and secrets never reach a log. */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "*.*.*.password",
  "original_password",
  "*.original_password",
  "secret",
  "*.secret",
  "*.*.secret",
  "token",
  "*.token",
  "req.headers['x-auth-token']",
  "req.headers['x-subject-token']",
  "headers['x-auth-token']",
  "headers['x-subject-token']",
  "*.headers['x-auth-token']",
  "*.headers['x-subject-token']",
];

/** Create the process logger (JSON lines; to a file when given). */
export function createLogger(level: string, file = ""): Logger {
  const opts = { level, redact: { paths: REDACT_PATHS, censor: "***" }, base: { pid: process.pid } };
  return file ? pino(opts, pino.destination({ dest: file, mkdir: true, sync: false })) : pino(opts);
}

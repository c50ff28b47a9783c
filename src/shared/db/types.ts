/** Current time as an ISO-8601 string, the portable timestamp format every table uses. */
export const nowIso = (): string => new Date().toISOString();

/** Booleans are stored as 0/1 integers on every engine. */
export const toDbBool = (b: boolean | undefined | null): number => (b ? 1 : 0);

/** Read a stored boolean (0/1, true/false, "1"). */
export const fromDbBool = (v: unknown): boolean => v === 1 || v === true || v === "1";

/** Whether an error is a unique-constraint violation on any engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string };
  return (
    e?.code === "SQLITE_CONSTRAINT_UNIQUE" ||
    e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    e?.code === "23505" ||
    e?.code === "ER_DUP_ENTRY" ||
    e?.errno === 1062
  );
}

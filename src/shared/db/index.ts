export { openDatabase, engineOf, type Database, type Engine } from "./connect.js";
export { migrate } from "./migrate.js";
export { nowIso, toDbBool, fromDbBool, isUniqueViolation } from "./types.js";
export { createTable, withSerialId, insertWithId } from "./schema.js";
export { withQuotaLock, quotaLockMigration } from "./quota-lock.js";

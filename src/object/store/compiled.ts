// The hot statements of object reads and writes, compiled once per database dialect: building and compiling a
// Kysely query costs more than SQLite takes to run a small one, so later runs bind their values to the kept SQL.
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from "kysely";

/** Kept SQL per dialect adapter (one per Kysely instance, shared by its transactions), by statement name. */
const kept = new WeakMap<object, Map<string, string>>();

/**
 * Run the query `build()` makes, building it only on the first run per database: later runs bind `params` to the
 * kept SQL. `params` are the values `build` uses, in the order they appear in the SQL (checked on the first run).
 */
export async function runCached<R>(
  db: Kysely<any>,
  name: string,
  params: readonly unknown[],
  build: () => Compilable<R>,
): Promise<QueryResult<R>> {
  const adapter = db.getExecutor().adapter;
  let byName = kept.get(adapter);
  if (!byName) kept.set(adapter, (byName = new Map()));
  let text = byName.get(name);
  if (text === undefined) {
    const q = build().compile();
    if (q.parameters.length !== params.length || q.parameters.some((p, i) => p !== params[i]))
      throw new Error(`cached statement ${name}: its parameters are not the values given, in order`);
    byName.set(name, (text = q.sql));
  }
  return db.executeQuery<R>(CompiledQuery.raw(text, [...params]));
}

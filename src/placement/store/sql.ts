// SQL fragments shared by the provider list filter and the allocation candidate search. Every number inlined here
// is an integer the caller validated (ids, amounts); strings (aggregate uuids) are bound parameters.
import { sql, type RawBuilder } from "kysely";

/** Largest integer Placement stores in an inventory (a signed 32-bit int). */
export const MAX_INT = 2147483647;

/** A validated integer as SQL text. */
export function int(n: number): RawBuilder<unknown> {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return sql.raw(String(n));
}

/** `(1, 2, 3)` from integers. */
export function intList(ns: Iterable<number>): RawBuilder<unknown> {
  const list = [...ns];
  if (!list.length) return sql.raw("(NULL)");
  return sql.raw(`(${list.map((n) => String(Math.trunc(n))).join(", ")})`);
}

/** The provider `col` has at least one of the traits. */
export function hasAnyTrait(col: string, traitIds: number[]): RawBuilder<unknown> {
  return sql`EXISTS (SELECT 1 FROM placement_provider_trait pt WHERE pt.provider_id = ${sql.raw(col)} AND pt.trait_id IN ${intList(traitIds)})`;
}

/** The provider `col` is in at least one of the aggregates. */
export function inAnyAggregate(col: string, aggs: string[]): RawBuilder<unknown> {
  return sql`EXISTS (SELECT 1 FROM placement_provider_aggregate pa WHERE pa.provider_id = ${sql.raw(col)} AND pa.aggregate_uuid IN (${sql.join(aggs)}))`;
}

/** Sum of allocations of a class on the provider `col`. */
export function usedOf(col: string, rcId: number): RawBuilder<unknown> {
  return sql`(SELECT COALESCE(SUM(al.used), 0) FROM placement_allocation al WHERE al.provider_id = ${sql.raw(col)} AND al.rc_id = ${int(rcId)})`;
}

/**
 * Providers that can take every (class, amount) now, as FROM and WHERE parts: driven by the inventory rows of
 * the first class (alias i0, whose provider_id is the provider), joined to the other classes' inventory rows of
 * the same provider, each row checked for unit constraints and capacity against the sum of its allocations.
 * Callers select `i0.provider_id` and add conditions on it; they do not join the provider table into the same
 * statement (PostgreSQL then misjudges the row count and nests a scan of every provider per candidate), but look
 * providers up by id afterwards.
 */
export function capacityQuery(resources: Array<[number, number]>): {
  from: RawBuilder<unknown>;
  where: RawBuilder<unknown>[];
} {
  if (!resources.length) throw new Error("capacityQuery needs at least one resource class");
  const joins: RawBuilder<unknown>[] = [sql`placement_inventory i0`];
  const where: RawBuilder<unknown>[] = [sql`i0.rc_id = ${int(resources[0][0])}`];
  resources.forEach(([rc, amount], n) => {
    const i = `i${n}`;
    if (n > 0)
      joins.push(
        sql`JOIN placement_inventory ${sql.raw(i)} ON ${sql.raw(i)}.provider_id = i0.provider_id AND ${sql.raw(i)}.rc_id = ${int(rc)}`,
      );
    where.push(fits(i, rc, amount));
  });
  return { from: sql.join(joins, sql` `), where };
}

/** The inventory row `alias` (of class rcId) admits `amount` more. */
function fits(alias: string, rcId: number, amount: number): RawBuilder<unknown> {
  const a = int(amount);
  const i = sql.raw(alias);
  return sql`${i}.min_unit <= ${a} AND ${i}.max_unit >= ${a} AND ${a} % ${i}.step_size = 0 AND ${usedOf(`${alias}.provider_id`, rcId)} + ${a} <= (${i}.total - ${i}.reserved) * ${i}.allocation_ratio`;
}

/** Provider ids that can take every (class, amount), filtered further by conditions on `i0.provider_id`. */
export function capacityIds(
  resources: Array<[number, number]>,
  more: RawBuilder<unknown>[] = [],
): RawBuilder<unknown> {
  const q = capacityQuery(resources);
  return sql`SELECT i0.provider_id AS id FROM ${q.from} WHERE ${and([...q.where, ...more])}`;
}

/** AND of conditions (TRUE when empty). */
export function and(conds: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conds.length ? sql.join(conds, sql` AND `) : sql`1 = 1`;
}

// Security group rules: rows, reads by group, the insert that refuses a duplicate (the unique (group, dedup_key)
// of the table, so racing creates cannot both win), deletes.
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { ruleKey, type RuleInput } from "../sg-rules.js";
import { inSavepoint, netDb, type NetworkTables } from "./tables.js";

/** A security group rule row. */
export type SecurityGroupRule = NetworkTables["network_security_group_rule"];

/** A new rule's row from its input (id and times filled in). */
export function newRule(
  core: NetworkCore,
  project: string,
  groupId: string,
  r: RuleInput,
  description = "",
): SecurityGroupRule {
  const now = nowIso();
  return {
    id: core.newId(),
    project_id: project,
    security_group_id: groupId,
    ...r,
    description,
    dedup_key: ruleKey(r),
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
}

/** The rule of the group with the same meaning, if any. */
export async function duplicateOf(core: NetworkCore, rule: SecurityGroupRule): Promise<string | null> {
  const r = await netDb(core)
    .selectFrom("network_security_group_rule")
    .select("id")
    .where("security_group_id", "=", rule.security_group_id)
    .where("dedup_key", "=", rule.dedup_key)
    .executeTakeFirst();
  return r?.id ?? null;
}

/** Insert a rule; the id of the existing rule when it duplicates one (nothing inserted then). */
export async function tryInsertRule(core: NetworkCore, rule: SecurityGroupRule): Promise<string | null> {
  const dup = await duplicateOf(core, rule);
  if (dup) return dup;
  try {
    await inSavepoint(core.db, () =>
      netDb(core).insertInto("network_security_group_rule").values(rule).execute(),
    );
    return null;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return (await duplicateOf(core, rule)) ?? rule.id;
  }
}

/** A rule by id, or null. */
export async function getRule(core: NetworkCore, id: string): Promise<SecurityGroupRule | null> {
  if (id.length > 36) return null;
  return (
    (await netDb(core)
      .selectFrom("network_security_group_rule")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst()) ?? null
  );
}

/** The rules of these groups (all rules without ids), by group id. */
export async function rulesOf(
  core: NetworkCore,
  groupIds?: string[],
): Promise<Map<string, SecurityGroupRule[]>> {
  const out = new Map<string, SecurityGroupRule[]>();
  if (groupIds && !groupIds.length) return out;
  let q = netDb(core)
    .selectFrom("network_security_group_rule")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id");
  if (groupIds) q = q.where("security_group_id", "in", groupIds);
  for (const r of await q.execute())
    out.set(r.security_group_id, [...(out.get(r.security_group_id) ?? []), r]);
  return out;
}

/** Delete a rule; whether it existed. */
export async function deleteRule(core: NetworkCore, id: string): Promise<boolean> {
  const r = await netDb(core)
    .deleteFrom("network_security_group_rule")
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The rules a caller sees with their group's owner: its project's and those in its groups (all for readers of all). */
export async function visibleRules(
  core: NetworkCore,
  caller: Caller,
): Promise<Array<SecurityGroupRule & { group_owner: string }>> {
  let q = netDb(core)
    .selectFrom("network_security_group_rule as r")
    .innerJoin("network_security_group as g", "g.id", "r.security_group_id")
    .selectAll("r")
    .select("g.project_id as group_owner");
  if (!caller.readsAll) {
    const p = caller.projectId ?? "";
    q = q.where((eb) => eb.or([eb("r.project_id", "=", p), eb("g.project_id", "=", p)]));
  }
  return q.execute();
}

/** The groups with rules naming any of these groups as their remote group. */
export async function groupsReferring(core: NetworkCore, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await netDb(core)
    .selectFrom("network_security_group_rule")
    .select("security_group_id")
    .distinct()
    .where("remote_group_id", "in", ids)
    .execute();
  return rows.map((r) => r.security_group_id);
}

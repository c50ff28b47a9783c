// The security group records ports refer to. This stage keeps the groups themselves (id, project, name) and each
// project's `default` group, created on first use (a port created with port security and no groups gets it), so
// ports can hold their group ids. The security-group API and the rules come with the security group stage: it adds
// the rules table and seeds the default group's rules in ensureDefaultGroup (the one place groups are made here).
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { NetworkCore } from "../core.js";
import { inSavepoint, netDb, type NetworkTables } from "./tables.js";

/** A security group row. */
export type SecurityGroup = NetworkTables["network_security_group"];

/** The id of a project's default group, creating it on first use (racing requests agree on one). */
export async function ensureDefaultGroup(core: NetworkCore, project: string): Promise<string> {
  const db = netDb(core);
  const find = async () =>
    (
      await db
        .selectFrom("network_default_security_group")
        .select("security_group_id")
        .where("project_id", "=", project)
        .executeTakeFirst()
    )?.security_group_id;
  const existing = await find();
  if (existing) return existing;
  const now = nowIso();
  const group: SecurityGroup = {
    id: core.newId(),
    project_id: project,
    name: "default",
    description: "Default security group",
    stateful: 1,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  try {
    await inSavepoint(core.db, async () => {
      await db
        .insertInto("network_default_security_group")
        .values({ project_id: project, security_group_id: group.id })
        .execute();
      await db.insertInto("network_security_group").values(group).execute();
      // The security group stage seeds the default rules here (egress to anywhere, ingress from the group).
    });
    return group.id;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return (await find()) as string;
  }
}

/** The groups of these ids that exist, by id. */
export async function groupsByIds(core: NetworkCore, ids: string[]): Promise<Map<string, SecurityGroup>> {
  const out = new Map<string, SecurityGroup>();
  if (!ids.length) return out;
  const rows = await netDb(core)
    .selectFrom("network_security_group")
    .selectAll()
    .where("id", "in", ids)
    .execute();
  for (const r of rows) out.set(r.id, r);
  return out;
}

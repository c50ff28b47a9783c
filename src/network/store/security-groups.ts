// Security groups: rows, visibility (the caller's project's, those an RBAC entry shares with it or with everyone;
// every group for readers of all), the project's
// `default` group created on first use with Neutron's default rules (egress anywhere and ingress from the group
// itself, over IPv4 and IPv6), new groups' egress rules, whether ports use a group, and deletes.
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Caller, NetworkCore } from "../core.js";
import type { RuleInput } from "../sg-rules.js";
import { bumpRevision } from "./networks.js";
import { newRule } from "./security-group-rules.js";
import { inSavepoint, netDb, parseJson, type NetworkTables } from "./tables.js";
import { removeTags } from "./tags.js";

/** A security group row. */
export type SecurityGroup = NetworkTables["network_security_group"];

const ANY: Omit<RuleInput, "direction" | "ethertype"> = {
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
};

/** Neutron's egress rules of every new group: anything out, IPv4 and IPv6. */
const egressRules = (): RuleInput[] =>
  (["IPv4", "IPv6"] as const).map((ethertype) => ({ ...ANY, direction: "egress", ethertype }));

/** Insert a group with its starting rules (egress anywhere; the default group also ingress from itself). */
export async function insertGroup(core: NetworkCore, group: SecurityGroup, isDefault = false): Promise<void> {
  const db = netDb(core);
  await db.insertInto("network_security_group").values(group).execute();
  const rules = egressRules();
  if (isDefault)
    for (const ethertype of ["IPv4", "IPv6"] as const)
      rules.push({ ...ANY, direction: "ingress", ethertype, remote_group_id: group.id });
  await db
    .insertInto("network_security_group_rule")
    .values(rules.map((r) => newRule(core, group.project_id, group.id, r)))
    .execute();
}

/** A new group's row. */
export function newGroup(
  core: NetworkCore,
  project: string,
  g: { name: string; description: string; stateful: boolean },
): SecurityGroup {
  const now = nowIso();
  return {
    id: core.newId(),
    project_id: project,
    name: g.name,
    description: g.description,
    stateful: g.stateful ? 1 : 0,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
}

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
  const group = newGroup(core, project, {
    name: "default",
    description: "Default security group",
    stateful: true,
  });
  try {
    await inSavepoint(core.db, async () => {
      await db
        .insertInto("network_default_security_group")
        .values({ project_id: project, security_group_id: group.id })
        .execute();
      await insertGroup(core, group, true);
    });
    return group.id;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return (await find()) as string;
  }
}

/** Ensure the default group outside any transaction (a list or create by a project that has none yet). */
export async function ensureDefaultGroupNow(core: NetworkCore, project: string): Promise<void> {
  await core.transaction((c) => ensureDefaultGroup(c, project));
}

/** Whether a group is its project's default one. */
export async function isDefaultGroup(core: NetworkCore, id: string): Promise<boolean> {
  const r = await netDb(core)
    .selectFrom("network_default_security_group")
    .select("project_id")
    .where("security_group_id", "=", id)
    .executeTakeFirst();
  return r !== undefined;
}

/** A group by id, or null. */
export async function getGroup(core: NetworkCore, id: string): Promise<SecurityGroup | null> {
  if (id.length > 36) return null;
  return (
    (await netDb(core)
      .selectFrom("network_security_group")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst()) ?? null
  );
}

/** Whether the caller owns a group, or reads all (the owner's rights: its rules, remote group references). */
export const groupVisible = (g: SecurityGroup, caller: Caller): boolean =>
  caller.readsAll || g.project_id === caller.projectId;

/** Whether an RBAC entry shares a group with a project (access_as_shared to it or to "*"). */
export async function groupSharedWith(
  core: NetworkCore,
  id: string,
  project: string | null,
): Promise<boolean> {
  const r = await netDb(core)
    .selectFrom("network_rbac")
    .select("id")
    .where("object_type", "=", "security_group")
    .where("object_id", "=", id)
    .where("action", "=", "access_as_shared")
    .where("target_project", "in", [project ?? "", "*"])
    .executeTakeFirst();
  return r !== undefined;
}

/** Whether the caller sees a group: its owner's view (groupVisible), or shared with its project. */
export async function groupReadable(core: NetworkCore, g: SecurityGroup, caller: Caller): Promise<boolean> {
  return groupVisible(g, caller) || groupSharedWith(core, g.id, caller.projectId);
}

/** The groups a caller sees: its project's and those shared with it (every group for readers of all). */
export async function listGroups(core: NetworkCore, caller: Caller): Promise<SecurityGroup[]> {
  let q = netDb(core).selectFrom("network_security_group as g").selectAll("g");
  const project = caller.projectId ?? "";
  if (!caller.readsAll)
    q = q.where((eb) =>
      eb.or([
        eb("g.project_id", "=", project),
        eb.exists(
          eb
            .selectFrom("network_rbac as r")
            .select("r.id")
            .where("r.object_type", "=", "security_group")
            .whereRef("r.object_id", "=", "g.id")
            .where("r.action", "=", "access_as_shared")
            .where("r.target_project", "in", [project, "*"]),
        ),
      ]),
    );
  return q.execute();
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

/** Change a group's name, description or statefulness (bumps its revision). */
export async function updateGroup(
  core: NetworkCore,
  id: string,
  set: { name?: string; description?: string; stateful?: boolean },
): Promise<void> {
  const cols: Record<string, unknown> = {};
  if (set.name !== undefined) cols.name = set.name;
  if (set.description !== undefined) cols.description = set.description;
  if (set.stateful !== undefined) cols.stateful = set.stateful ? 1 : 0;
  await bumpRevision(core, "network_security_group", id, cols);
}

/** The ports that use a group. */
export async function portsOfGroup(core: NetworkCore, id: string): Promise<string[]> {
  const rows = await netDb(core)
    .selectFrom("network_port_security_group")
    .select("port_id")
    .where("security_group_id", "=", id)
    .execute();
  return rows.map((r) => r.port_id);
}

/** Delete a group, its rules, the rules of other groups naming it as remote group, its RBAC entries, its tags. */
export async function deleteGroupRows(core: NetworkCore, id: string): Promise<void> {
  const db = netDb(core);
  await db.deleteFrom("network_security_group_rule").where("security_group_id", "=", id).execute();
  await db.deleteFrom("network_security_group_rule").where("remote_group_id", "=", id).execute();
  await db.deleteFrom("network_default_security_group").where("security_group_id", "=", id).execute();
  await db.deleteFrom("network_security_group").where("id", "=", id).execute();
  await db
    .deleteFrom("network_rbac")
    .where("object_type", "=", "security_group")
    .where("object_id", "=", id)
    .execute();
  await removeTags(core, "security-groups", id);
}

/** Addresses of the ports in these groups (fixed IPs and allowed address pairs), by group id. */
export async function groupMembers(core: NetworkCore, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!ids.length) return out;
  const db = netDb(core);
  const links = await db
    .selectFrom("network_port_security_group")
    .selectAll()
    .where("security_group_id", "in", ids)
    .execute();
  const ports = [...new Set(links.map((l) => l.port_id))];
  if (!ports.length) return out;
  const [ips, pairs] = await Promise.all([
    db
      .selectFrom("network_ip_allocation")
      .select(["port_id", "ip_address"])
      .where("port_id", "in", ports)
      .execute(),
    db.selectFrom("network_port").select(["id", "allowed_address_pairs"]).where("id", "in", ports).execute(),
  ]);
  const byPort = new Map<string, string[]>();
  const add = (port: string, a: string) => byPort.set(port, [...(byPort.get(port) ?? []), a]);
  for (const i of ips) add(i.port_id, i.ip_address);
  for (const p of pairs)
    for (const a of parseJson<Array<{ ip_address: string }>>(p.allowed_address_pairs))
      add(p.id, a.ip_address);
  for (const l of links)
    out.set(
      l.security_group_id,
      [...new Set([...(out.get(l.security_group_id) ?? []), ...(byPort.get(l.port_id) ?? [])])].sort(),
    );
  return out;
}

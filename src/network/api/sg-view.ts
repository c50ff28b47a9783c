// Security groups and rules as Neutron shows them, their policy targets, and reading one the caller may see (a
// group is its project's, and shared with the projects RBAC entries name; a rule is its project's and also the
// group owner's, whoever created it).
import type { Target } from "../../shared/policy/index.js";
import type { NetworkCore } from "../core.js";
import { normalizedCidr } from "../sg-rules.js";
import { nerr, notFound } from "../errors.js";
import { getRule, rulesOf, type SecurityGroupRule } from "../store/security-group-rules.js";
import { grants, rbacFor } from "../store/rbac.js";
import { getGroup, groupReadable, type SecurityGroup } from "../store/security-groups.js";
import { tagsFor } from "../store/tags.js";
import { callerOf, enforceOn, isoTime, type Ctx } from "./common.js";

/** A rule's body. */
export function ruleBody(r: SecurityGroupRule): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    security_group_id: r.security_group_id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.port_range_min === null ? null : Number(r.port_range_min),
    port_range_max: r.port_range_max === null ? null : Number(r.port_range_max),
    remote_ip_prefix: r.remote_ip_prefix,
    normalized_cidr: normalizedCidr(r.remote_ip_prefix),
    remote_group_id: r.remote_group_id,
    remote_address_group_id: null,
    description: r.description,
    created_at: isoTime(r.created_at),
    updated_at: isoTime(r.updated_at),
    revision_number: Number(r.revision_number),
  };
}

/** A group's body with its rules and tags. */
export function groupBody(
  g: SecurityGroup,
  rules: SecurityGroupRule[],
  tags: string[],
  shared = false,
): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.project_id,
    project_id: g.project_id,
    stateful: Number(g.stateful) === 1,
    shared,
    security_group_rules: rules.map(ruleBody),
    tags,
    created_at: isoTime(g.created_at),
    updated_at: isoTime(g.updated_at),
    revision_number: Number(g.revision_number),
  };
}

/** A group's policy target (`shared`: an RBAC entry shares it with the caller's project). */
export const groupTarget = (g: Pick<SecurityGroup, "project_id">, shared = false): Target => ({
  project_id: g.project_id,
  tenant_id: g.project_id,
  shared,
});

/** The ids of these groups that RBAC entries share with a project (access_as_shared to it or to "*"). */
export async function groupsSharedWith(
  core: NetworkCore,
  ids: string[],
  project: string | null,
): Promise<Set<string>> {
  const entries = await rbacFor(core, "security_group", ids);
  return new Set(ids.filter((id) => grants(entries.get(id) ?? [], "access_as_shared", project)));
}

/** A rule's policy target: its project and its group's owner. */
export const ruleTarget = (r: Pick<SecurityGroupRule, "project_id">, groupOwner: string): Target => ({
  project_id: r.project_id,
  tenant_id: r.project_id,
  "security_group:project_id": groupOwner,
  "security_group:tenant_id": groupOwner,
});

/** Views of groups (with rules and tags). */
export async function groupViews(
  core: NetworkCore,
  groups: SecurityGroup[],
  shared: ReadonlySet<string> = new Set(),
): Promise<Record<string, unknown>[]> {
  const ids = groups.map((g) => g.id);
  const [rules, tags] = await Promise.all([rulesOf(core, ids), tagsFor(core, "security-groups", ids)]);
  return groups.map((g) => groupBody(g, rules.get(g.id) ?? [], tags.get(g.id) ?? [], shared.has(g.id)));
}

/** A group the caller may see, checked against `rule` (404 SecurityGroupNotFound, or 403). */
export async function loadGroup(ctx: Ctx, core: NetworkCore, id: string, rule = "get_security_group") {
  const g = await getGroup(core, id);
  const caller = callerOf(ctx);
  if (!g || !(await groupReadable(core, g, caller))) throw notFound("security_group", id);
  const shared = (await groupsSharedWith(core, [g.id], caller.projectId)).has(g.id);
  enforceOn(ctx, rule, "get_security_group", groupTarget(g, shared), notFound("security_group", id));
  return g;
}

/** The view of one group as the caller sees it (shared or not for its project). */
export async function groupView(ctx: Ctx, core: NetworkCore, g: SecurityGroup) {
  const shared = await groupsSharedWith(core, [g.id], callerOf(ctx).projectId);
  return (await groupViews(core, [g], shared))[0];
}

/** 404 SecurityGroupRuleNotFound. */
export const ruleNotFound = (id: string) =>
  nerr(404, "SecurityGroupRuleNotFound", `Security group rule ${id} does not exist`);

/** A rule the caller may see (its own, or one in its group), checked against `rule`. */
export async function loadRule(ctx: Ctx, core: NetworkCore, id: string, rule = "get_security_group_rule") {
  const r = await getRule(core, id);
  const caller = callerOf(ctx);
  const group = r && (await getGroup(core, r.security_group_id));
  const owner = group?.project_id ?? "";
  if (!r || !(caller.readsAll || r.project_id === caller.projectId || owner === caller.projectId))
    throw ruleNotFound(id);
  enforceOn(ctx, rule, "get_security_group_rule", ruleTarget(r, owner), ruleNotFound(id));
  return { rule: r, groupOwner: owner };
}

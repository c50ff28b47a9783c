// /v2.0/security-group-rules: list, create (one or bulk, under the security_group_rule quota; duplicates are 409
// SecurityGroupRuleExists), show, delete. Rules are not updated (as in Neutron). The checks of a rule's
// attributes are sg-rules.ts's; here the group and remote group must be ones the caller may use.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { conflict, nerr, notFound } from "../errors.js";
import { withQuota } from "../quotas.js";
import { checkRule, parseProtocol, parseRemotePrefix, type RuleInput } from "../sg-rules.js";
import {
  deleteRule,
  newRule,
  visibleRules,
  tryInsertRule,
  type SecurityGroupRule,
} from "../store/security-group-rules.js";
import { getGroup, groupVisible } from "../store/security-groups.js";
import { bodyItems, parseCreate, projectOf, resourceBody, val, type Attr } from "./attrs.js";
import { callerOf, enforceWrite } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { loadRule, ruleBody, ruleNotFound, ruleTarget } from "./sg-view.js";
import { oneOf, str, strOrNull, uuid, type Validator } from "./validators.js";

/**
 * A port range bound as Neutron converts it (convert_validate_port_value): an integer (or its text) in 0-65535,
 * else 400 SecurityGroupInvalidPortValue "Invalid value for port X"; null stays null.
 */
const portValue: Validator<number | null> = (v) => {
  if (v === null) return null;
  const n = typeof v === "string" && /^-?\d{1,10}$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535)
    throw nerr(400, "SecurityGroupInvalidPortValue", `Invalid value for port ${String(v).slice(0, 64)}`);
  return n;
};

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["security_group_id", { post: "required", put: false, parse: uuid }],
  ["direction", { post: "required", put: false, parse: oneOf(["ingress", "egress"] as const) }],
  ["ethertype", { post: true, put: false, parse: oneOf(["IPv4", "IPv6"] as const), def: "IPv4" }],
  ["protocol", { post: true, put: false, parse: (v) => parseProtocol(v), def: null }],
  ["port_range_min", { post: true, put: false, parse: portValue, def: null }],
  ["port_range_max", { post: true, put: false, parse: portValue, def: null }],
  ["remote_ip_prefix", { post: true, put: false, parse: (v) => parseRemotePrefix(v), def: null }],
  // Not checked for form: an id that names no group (malformed or not) is 404 SecurityGroupNotFound, as Neutron.
  ["remote_group_id", { post: true, put: false, parse: strOrNull(255), def: null }],
  ["remote_address_group_id", { post: false, put: false, parse: str() }],
  ["description", { post: true, put: false, parse: str(255), def: "" }],
]);

const LIST: ListSpec = {
  collection: "security_group_rules",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["security_group_id", "string"],
    ["direction", "string"],
    ["ethertype", "string"],
    ["protocol", "string"],
    ["port_range_min", "int"],
    ["port_range_max", "int"],
    ["remote_ip_prefix", "string"],
    ["remote_group_id", "string"],
    ["description", "string"],
    ["revision_number", "int"],
  ]),
  sortKeys: new Set([
    "id",
    "project_id",
    "tenant_id",
    "security_group_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => ruleNotFound(id),
};

/** Routes of /v2.0/security-group-rules. */
export function securityGroupRuleRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/security-group-rules",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const views = (await visibleRules(core, callerOf(ctx)))
          .filter((r) => ctx.allowed("get_security_group_rule", ruleTarget(r, r.group_owner)))
          .map(ruleBody);
        return listResponse(ctx, LIST, views);
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/security-group-rules",
      policy: null,
      auth: "required",
      body: resourceBody("security_group_rule", "security_group_rules"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "security_group_rules");
        const items = bodyItems(ctx.body, "security_group_rule", "security_group_rules").map((i) =>
          parseCreate(i, ATTRS),
        );
        const byProject = new Map<string, SecurityGroupRule[]>();
        for (const p of items) {
          const groupId = val<string>(p, "security_group_id");
          const group = await getGroup(core, groupId);
          if (!group || !groupVisible(group, caller)) throw notFound("security_group", groupId);
          const given = p.given.has("project_id") || p.given.has("tenant_id");
          const project = given ? projectOf(p, caller.projectId) : group.project_id;
          const input: RuleInput = {
            direction: val(p, "direction"),
            ethertype: val(p, "ethertype"),
            protocol: val(p, "protocol"),
            port_range_min: val(p, "port_range_min"),
            port_range_max: val(p, "port_range_max"),
            remote_ip_prefix: val(p, "remote_ip_prefix"),
            remote_group_id: val(p, "remote_group_id"),
          };
          enforceWrite(
            ctx,
            "create_security_group_rule",
            [],
            ruleTarget({ project_id: project }, group.project_id),
          );
          checkRule(input);
          if (input.remote_group_id !== null) {
            const remote = await getGroup(core, input.remote_group_id);
            if (!remote || !groupVisible(remote, caller))
              throw notFound("security_group", input.remote_group_id);
          }
          const rule = newRule(core, project, group.id, input, val(p, "description"));
          byProject.set(project, [...(byProject.get(project) ?? []), rule]);
        }
        const created: SecurityGroupRule[] = [];
        for (const [project, rules] of byProject)
          created.push(
            ...(await withQuota(core, project, "security_group_rule", rules.length, async (c) => {
              for (const r of rules) {
                const dup = await tryInsertRule(c, r);
                if (dup)
                  throw conflict(
                    "SecurityGroupRuleExists",
                    `Security group rule already exists. Rule id is ${dup}.`,
                  );
              }
              return rules;
            })),
          );
        core.notify.securityGroupsUpdated([...new Set(created.map((r) => r.security_group_id))]);
        const views = created.map(ruleBody);
        return reply(201, bulk ? { security_group_rules: views } : { security_group_rule: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/security-group-rules/:security_group_rule_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { rule } = await loadRule(ctx, core, ctx.params.security_group_rule_id);
        return { security_group_rule: selectFields(ruleBody(rule), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/security-group-rules/:security_group_rule_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const id = ctx.params.security_group_rule_id;
        const { rule } = await loadRule(ctx, core, id, "delete_security_group_rule");
        if (!(await deleteRule(core, id))) throw ruleNotFound(id);
        core.notify.securityGroupsUpdated([rule.security_group_id]);
        return noContent();
      },
    }),
  ];
}

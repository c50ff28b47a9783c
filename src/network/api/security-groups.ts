// /v2.0/security-groups: list (a project's `default` group is made on its first list), create (one or bulk, under
// the security_group quota; each new group gets Neutron's two egress rules), show, update, delete. The default
// group keeps its name; members may not delete it (admins may); a group ports use cannot be deleted.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { conflict } from "../errors.js";
import { withQuota } from "../quotas.js";
import {
  deleteGroupRows,
  ensureDefaultGroupNow,
  getGroup,
  insertGroup,
  isDefaultGroup,
  listGroups,
  newGroup,
  portsOfGroup,
  updateGroup,
  type SecurityGroup,
} from "../store/security-groups.js";
import {
  bodyItem,
  bodyItems,
  parseCreate,
  parseUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceWrite, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { groupTarget, groupView, groupViews, groupsSharedWith, loadGroup } from "./sg-view.js";
import { notFound } from "../errors.js";
import { bool, str } from "./validators.js";

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: true, put: true, parse: str(255), def: "" }],
  ["description", { post: true, put: true, parse: str(255), def: "" }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["stateful", { post: true, put: true, parse: bool, def: true }],
  ["security_group_rules", { post: false, put: false, parse: str() }],
]);

const LIST: ListSpec = {
  collection: "security_groups",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["stateful", "bool"],
    ["shared", "bool"],
    ["revision_number", "int"],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "stateful",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => notFound("security_group", id),
};

const defaultExists = () =>
  conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");

/** 409 SecurityGroupInUse. */
const inUse = (id: string) => conflict("SecurityGroupInUse", `Security Group ${id} in use.`);

/** Routes of /v2.0/security-groups. */
export function securityGroupRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/security-groups",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        if (caller.projectId) await ensureDefaultGroupNow(core, caller.projectId);
        const all = await listGroups(core, caller);
        const shared = await groupsSharedWith(
          core,
          all.map((g) => g.id),
          caller.projectId,
        );
        const groups = all.filter((g) => ctx.allowed("get_security_group", groupTarget(g, shared.has(g.id))));
        return listResponse(ctx, LIST, await groupViews(core, groups, shared));
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/security-groups",
      policy: null,
      auth: "required",
      body: resourceBody("security_group", "security_groups"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "security_groups");
        const items = bodyItems(ctx.body, "security_group", "security_groups").map((i) =>
          parseCreate(i, ATTRS),
        );
        const byProject = new Map<string, Parsed[]>();
        for (const p of items) {
          const project = projectOf(p, caller.projectId);
          enforceWrite(ctx, "create_security_group", [], groupTarget({ project_id: project }));
          if (val(p, "name") === "default") throw defaultExists();
          byProject.set(project, [...(byProject.get(project) ?? []), p]);
        }
        const created: SecurityGroup[] = [];
        for (const [project, ps] of byProject) {
          await ensureDefaultGroupNow(core, project);
          created.push(
            ...(await withQuota(core, project, "security_group", ps.length, async (c) => {
              const out: SecurityGroup[] = [];
              for (const p of ps) {
                const g = newGroup(c, project, {
                  name: val(p, "name"),
                  description: val(p, "description"),
                  stateful: val(p, "stateful"),
                });
                await insertGroup(c, g);
                out.push(g);
              }
              return out;
            })),
          );
        }
        const views = await groupViews(core, created);
        return reply(201, bulk ? { security_groups: views } : { security_group: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/security-groups/:security_group_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const g = await loadGroup(ctx, core, ctx.params.security_group_id);
        return { security_group: selectFields(await groupView(ctx, core, g), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/security-groups/:security_group_id",
      policy: null,
      auth: "required",
      body: resourceBody("security_group"),
      handler: async (ctx: Ctx) => {
        const id = ctx.params.security_group_id;
        const g = await loadGroup(ctx, core, id, "update_security_group");
        const p = parseUpdate(bodyItem(ctx.body, "security_group"), ATTRS);
        const name = val<string | undefined>(p, "name");
        if (name !== undefined && name !== g.name) {
          if (await isDefaultGroup(core, id))
            throw conflict(
              "SecurityGroupCannotUpdateDefault",
              "Updating default security group not allowed.",
            );
          if (name === "default") throw defaultExists();
        }
        const stateful = val<boolean | undefined>(p, "stateful");
        if (
          stateful !== undefined &&
          stateful !== (Number(g.stateful) === 1) &&
          (await portsOfGroup(core, id)).length
        )
          throw inUse(id);
        await updateGroup(core, id, { name, description: val(p, "description"), stateful });
        core.notify.securityGroupsUpdated([id]);
        return { security_group: await groupView(ctx, core, (await getGroup(core, id)) as SecurityGroup) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/security-groups/:security_group_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const id = ctx.params.security_group_id;
        await loadGroup(ctx, core, id, "delete_security_group");
        await core.transaction(async (c) => {
          if ((await isDefaultGroup(c, id)) && !callerOf(ctx).isAdmin)
            throw conflict(
              "SecurityGroupCannotRemoveDefault",
              "Insufficient rights for removing default security group.",
            );
          if ((await portsOfGroup(c, id)).length) throw inUse(id);
          await deleteGroupRows(c, id);
        });
        core.notify.securityGroupsUpdated([id]);
        return noContent();
      },
    }),
  ];
}

// Per-server metadata (/servers/{id}/metadata), tags (/servers/{id}/tags, 2.26) and addresses (/servers/{id}/ips).
import { noContent, reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, forbidden, notFound } from "../../errors.js";
import { getInstance, stateConflict, type Instance } from "../../instances/store.js";
import { TaskState } from "../../instances/states.js";
import { objectBody, type Ctx } from "../common.js";
import { projectLimits } from "../quotas.js";

const MAX_TAGS = 50;

/** The server if the caller may act on it under `rule` (404 for others' servers, as Nova). */
export async function ownedServer(core: ComputeCore, ctx: Ctx, rule: string, id: string): Promise<Instance> {
  const inst = await getInstance(core.db, id);
  const target = { project_id: inst.project_id, user_id: inst.user_id };
  if (inst.project_id !== ctx.auth?.projectId && !ctx.allowed(rule, target))
    throw notFound(`Instance ${id} could not be found.`);
  ctx.authorize(rule, target);
  return inst;
}

async function metadataOf(core: ComputeCore, uuid: string): Promise<Record<string, string>> {
  const rows = (await core.db
    .selectFrom("compute_instance_metadata")
    .select(["meta_key", "value"])
    .where("instance_uuid", "=", uuid)
    .execute()) as Array<{ meta_key: string; value: string }>;
  return Object.fromEntries(rows.map((r) => [r.meta_key, r.value]));
}

function checkMeta(meta: unknown): Record<string, string> {
  if (!meta || typeof meta !== "object" || Array.isArray(meta))
    throw badRequest("Invalid input for field/attribute metadata. Value: not an object.");
  for (const [k, v] of Object.entries(meta)) {
    if (k.length < 1 || k.length > 255)
      throw badRequest(`Invalid input for field/attribute metadata. Value: ${k}.`);
    if (typeof v !== "string" || v.length > 255)
      throw badRequest(
        `Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. not a string of at most 255 characters`,
      );
  }
  return meta as Record<string, string>;
}

async function writeMeta(core: ComputeCore, inst: Instance, meta: Record<string, string>, replace: boolean) {
  if (inst.task_state === TaskState.DELETING)
    throw stateConflict("update metadata", inst, { taskState: [null] });
  const merged = replace ? { ...meta } : { ...(await metadataOf(core, inst.uuid)), ...meta };
  const limit = (await projectLimits(core.db, inst.project_id)).metadata_items;
  if (limit >= 0 && Object.keys(merged).length > limit)
    throw forbidden(
      `Quota exceeded for metadata_items: Requested ${Object.keys(merged).length}, but already used 0 of ${limit} metadata_items`,
    );
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("compute_instance_metadata").where("instance_uuid", "=", inst.uuid).execute();
    for (const [k, v] of Object.entries(merged))
      await tx
        .insertInto("compute_instance_metadata")
        .values({ instance_uuid: inst.uuid, meta_key: k, value: v })
        .execute();
  });
  return merged;
}

async function tagsOf(core: ComputeCore, uuid: string): Promise<string[]> {
  const rows = (await core.db
    .selectFrom("compute_instance_tag")
    .select("tag")
    .where("instance_uuid", "=", uuid)
    .orderBy("tag")
    .execute()) as Array<{ tag: string }>;
  return rows.map((r) => r.tag);
}

function checkTag(t: unknown): string {
  if (typeof t !== "string" || t.length < 1 || t.length > 60 || /[/,]/.test(t))
    throw badRequest(
      `Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}. A tag is 1-60 characters without '/' or ','.`,
    );
  return t;
}

/** Metadata, tags and ips routes. */
export function subresourceRoutes(core: ComputeCore): Route[] {
  const M = "/v2.1/servers/:server_id/metadata";
  const T = "/v2.1/servers/:server_id/tags";
  const r = (
    method: "GET" | "PUT" | "POST" | "DELETE",
    path: string,
    minVersion: string | undefined,
    handler: (ctx: Ctx) => Promise<unknown>,
  ) =>
    route({
      method,
      path,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        if (minVersion && ctx.microversion.lt(minVersion)) throw notFound("The resource could not be found.");
        return handler(ctx);
      },
    });
  return [
    r("GET", M, undefined, async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:server-metadata:index", ctx.params.server_id);
      return { metadata: await metadataOf(core, inst.uuid) };
    }),
    r("POST", M, undefined, async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:server-metadata:create",
        ctx.params.server_id,
      );
      const meta = checkMeta(objectBody(ctx).metadata);
      return { metadata: await writeMeta(core, inst, meta, false) };
    }),
    r("PUT", M, undefined, async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:server-metadata:update_all",
        ctx.params.server_id,
      );
      const meta = checkMeta(objectBody(ctx).metadata);
      return { metadata: await writeMeta(core, inst, meta, true) };
    }),
    r("GET", `${M}/:key`, undefined, async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:server-metadata:show", ctx.params.server_id);
      const meta = await metadataOf(core, inst.uuid);
      if (!Object.hasOwn(meta, ctx.params.key)) throw notFound("Metadata item was not found");
      return { meta: { [ctx.params.key]: meta[ctx.params.key] } };
    }),
    r("PUT", `${M}/:key`, undefined, async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:server-metadata:update",
        ctx.params.server_id,
      );
      const body = objectBody(ctx);
      const meta = checkMeta(body.meta);
      const keys = Object.keys(meta);
      if (keys.length !== 1) throw badRequest("Request body contains too many items");
      if (keys[0] !== ctx.params.key) throw badRequest("Request body and URI mismatch");
      await writeMeta(core, inst, meta, false);
      return { meta };
    }),
    r("DELETE", `${M}/:key`, undefined, async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:server-metadata:delete",
        ctx.params.server_id,
      );
      const meta = await metadataOf(core, inst.uuid);
      if (!Object.hasOwn(meta, ctx.params.key)) throw notFound("Metadata item was not found");
      await core.db
        .deleteFrom("compute_instance_metadata")
        .where("instance_uuid", "=", inst.uuid)
        .where("meta_key", "=", ctx.params.key)
        .execute();
      return noContent();
    }),
    r("GET", T, "2.26", async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:os-server-tags:index", ctx.params.server_id);
      return { tags: await tagsOf(core, inst.uuid) };
    }),
    r("PUT", T, "2.26", async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:os-server-tags:update_all",
        ctx.params.server_id,
      );
      const tags = objectBody(ctx).tags;
      if (!Array.isArray(tags))
        throw badRequest("Invalid input for field/attribute tags. 'tags' is a required property");
      const uniq = [...new Set(tags.map(checkTag))];
      if (uniq.length > MAX_TAGS)
        throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
      await core.db.deleteFrom("compute_instance_tag").where("instance_uuid", "=", inst.uuid).execute();
      for (const t of uniq)
        await core.db
          .insertInto("compute_instance_tag")
          .values({ instance_uuid: inst.uuid, tag: t })
          .execute();
      return { tags: await tagsOf(core, inst.uuid) };
    }),
    r("DELETE", T, "2.26", async (ctx) => {
      const inst = await ownedServer(
        core,
        ctx,
        "os_compute_api:os-server-tags:delete_all",
        ctx.params.server_id,
      );
      await core.db.deleteFrom("compute_instance_tag").where("instance_uuid", "=", inst.uuid).execute();
      return noContent();
    }),
    r("GET", `${T}/:tag`, "2.26", async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:os-server-tags:show", ctx.params.server_id);
      if (!(await tagsOf(core, inst.uuid)).includes(ctx.params.tag))
        throw notFound(`Tag ${ctx.params.tag} could not be found.`);
      return noContent();
    }),
    r("PUT", `${T}/:tag`, "2.26", async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:os-server-tags:update", ctx.params.server_id);
      const tag = checkTag(ctx.params.tag);
      const tags = await tagsOf(core, inst.uuid);
      const location = {
        location: `${ctx.serviceUrl}/v2.1/servers/${inst.uuid}/tags/${encodeURIComponent(tag)}`,
      };
      if (tags.includes(tag)) return noContent(location);
      if (tags.length >= MAX_TAGS)
        throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
      await core.db.insertInto("compute_instance_tag").values({ instance_uuid: inst.uuid, tag }).execute();
      return reply(201, undefined, location);
    }),
    r("DELETE", `${T}/:tag`, "2.26", async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:os-server-tags:delete", ctx.params.server_id);
      const res = await core.db
        .deleteFrom("compute_instance_tag")
        .where("instance_uuid", "=", inst.uuid)
        .where("tag", "=", ctx.params.tag)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`Tag ${ctx.params.tag} could not be found.`);
      return noContent();
    }),
    r("GET", "/v2.1/servers/:server_id/ips", undefined, async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:ips:index", ctx.params.server_id);
      const all = Object.entries(inst.addresses).map(([name, list]) => [name, basicAddresses(list)]);
      return { addresses: Object.fromEntries(all) };
    }),
    r("GET", "/v2.1/servers/:server_id/ips/:network", undefined, async (ctx) => {
      const inst = await ownedServer(core, ctx, "os_compute_api:ips:show", ctx.params.server_id);
      const net = Object.hasOwn(inst.addresses, ctx.params.network) && inst.addresses[ctx.params.network];
      if (!net) throw notFound("Instance is not a member of specified network");
      return { [ctx.params.network]: basicAddresses(net) };
    }),
  ];
}

/** Addresses as /ips shows them: version and addr only (Nova leaves out the OS-EXT-IPS attributes there). */
function basicAddresses(list: Array<Record<string, unknown>>): Array<{ version: unknown; addr: unknown }> {
  return list.map((a) => ({ version: a.version, addr: a.addr }));
}

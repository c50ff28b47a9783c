// rebuild: re-create a server from an image on its host, optionally renaming it and replacing its metadata,
// description (2.19), key (2.54), user data (2.57) and hostname (2.90). The answer is the server as GET shows
// it, with the admin password (and user_data from 2.57).
import { reply } from "../../../shared/http/reply.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, forbidden } from "../../errors.js";
import { findInstance, type Instance, type InstancePatch, type RequestSpec } from "../../instances/store.js";
import { TaskState as T, VmState as V } from "../../instances/states.js";
import { invalid, type Ctx } from "../common.js";
import { checkImageFits } from "../image-fit.js";
import { projectLimits } from "../quotas.js";
import { serverLinks, serverView } from "../servers/view.js";
import { accessIPv4, accessIPv6 } from "../servers/ip.js";
import { callerKeyPair } from "../keypairs.js";
import {
  agentTarget,
  authorizedServer,
  begin,
  checkLock,
  checkState,
  closedObject,
  generatePassword,
  metadataField,
  nameField,
  needHost,
  parseBoolean,
  stringField,
  uuidField,
  type ActionTable,
} from "./common.js";
import { imageSpec } from "../../instances/image.js";

/** The body members rebuild accepts at this microversion. */
function allowedKeys(ctx: Ctx): string[] {
  const mv = ctx.microversion;
  const keys = ["name", "imageRef", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig"];
  keys.push("accessIPv4", "accessIPv6");
  if (mv.lt("2.57")) keys.push("personality");
  if (mv.gte("2.19")) keys.push("description");
  if (mv.gte("2.54")) keys.push("key_name");
  if (mv.gte("2.57")) keys.push("user_data");
  if (mv.gte("2.63")) keys.push("trusted_image_certificates");
  if (mv.gte("2.90")) keys.push("hostname");
  return keys;
}

/** Validate the rebuild body into the row changes it asks for (besides the image). */
function parseRebuild(ctx: Ctx, value: unknown) {
  const b = closedObject("rebuild", value, allowedKeys(ctx), { required: ["imageRef"] })!;
  const f = (k: string) => `rebuild/${k}`;
  const patch: InstancePatch = {};
  const imageRef = uuidField(f("imageRef"), b.imageRef);
  if (b.name !== undefined) patch.display_name = nameField(f("name"), b.name);
  const password = b.adminPass === undefined ? generatePassword() : stringField(f("adminPass"), b.adminPass);
  const metadata = b.metadata === undefined ? undefined : metadataField(f("metadata"), b.metadata);
  if (b.preserve_ephemeral !== undefined) parseBoolean(f("preserve_ephemeral"), b.preserve_ephemeral);
  const dc = b["OS-DCF:diskConfig"];
  if (dc !== undefined && dc !== "AUTO" && dc !== "MANUAL")
    throw invalid(f("OS-DCF:diskConfig"), dc, `${JSON.stringify(dc)} is not one of ['AUTO', 'MANUAL']`);
  if (b.accessIPv4 !== undefined) patch.access_ip_v4 = accessIPv4(f("accessIPv4"), b.accessIPv4);
  if (b.accessIPv6 !== undefined) patch.access_ip_v6 = accessIPv6(f("accessIPv6"), b.accessIPv6);
  if (b.personality !== undefined && !Array.isArray(b.personality))
    throw invalid(f("personality"), b.personality, `${JSON.stringify(b.personality)} is not of type 'array'`);
  if (b.description !== undefined)
    patch.description = b.description === null ? null : stringField(f("description"), b.description, 0, 255);
  let keyName: string | null | undefined;
  if (b.key_name !== undefined)
    keyName = b.key_name === null ? null : stringField(f("key_name"), b.key_name, 1, 255);
  if (b.user_data !== undefined) {
    if (b.user_data !== null) {
      const ud = stringField(f("user_data"), b.user_data, 0, 65535);
      if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(ud)) throw invalid(f("user_data"), ud, "is not a 'base64'");
    }
    patch.user_data = b.user_data as string | null;
  }
  const certs = b.trusted_image_certificates;
  if (certs !== undefined && certs !== null && !Array.isArray(certs))
    throw invalid(
      f("trusted_image_certificates"),
      certs,
      `${JSON.stringify(certs)} is not of type 'array', 'null'`,
    );
  if (b.hostname !== undefined) {
    const h = stringField(f("hostname"), b.hostname, 2, 63);
    if (!/^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$/.test(h))
      throw invalid(
        f("hostname"),
        h,
        `${JSON.stringify(h)} does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'`,
      );
    patch.hostname = h;
  }
  return {
    imageRef,
    password,
    metadata,
    keyName,
    patch,
    trusted: certs !== undefined,
    diskConfig: dc as "AUTO" | "MANUAL" | undefined,
  };
}

/** The new image as the scheduler keeps it (400 if missing, not active or too big for the flavor). */
async function rebuildImage(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  imageRef: string,
): Promise<RequestSpec["image"]> {
  const res = await core.image.request("GET", `/v2/images/${imageRef}`, { token: ctx.auth?.token });
  if (res.status === 404 || res.status === 403) throw badRequest("Cannot find image for rebuild");
  if (res.status !== 200)
    throw badRequest(`Image ${imageRef} could not be checked (image service said ${res.status}).`);
  const img = res.body as Record<string, unknown>;
  if (img.status !== "active") throw badRequest(`Image ${imageRef} is not active.`);
  const spec = imageSpec(imageRef, img);
  checkImageFits(ctx, spec, inst.flavor, inst.project_id);
  return spec;
}

async function replaceMetadata(core: ComputeCore, uuid: string, meta: Record<string, string>): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("compute_instance_metadata").where("instance_uuid", "=", uuid).execute();
    for (const [k, v] of Object.entries(meta))
      await tx
        .insertInto("compute_instance_metadata")
        .values({ instance_uuid: uuid, meta_key: k, value: v })
        .execute();
  });
}

/** rebuild. */
export const rebuildActions: ActionTable = {
  rebuild: {
    async run(core, ctx, id, value) {
      const req = parseRebuild(ctx, value);
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:rebuild");
      if (req.trusted)
        ctx.authorize("os_compute_api:servers:rebuild:trusted_certs", {
          user_id: inst.user_id,
          project_id: inst.project_id,
        });
      checkLock(ctx, inst);
      const rule = { vm: [V.ACTIVE, V.STOPPED, V.ERROR] };
      checkState(inst, "rebuild", rule);
      const host = needHost(inst);
      const image = await rebuildImage(core, ctx, inst, req.imageRef);
      const keys =
        req.keyName === undefined
          ? {}
          : req.keyName === null
            ? { key_name: null, key_data: null }
            : await callerKeyPair(core, ctx, req.keyName);
      if (req.metadata) {
        const limit = (await projectLimits(core.db, inst.project_id)).metadata_items;
        if (limit >= 0 && Object.keys(req.metadata).length > limit)
          throw forbidden(`Maximum number of metadata items exceeds ${limit}`);
      }
      const rc = await begin(core, ctx, inst, {
        action: "rebuild",
        record: "rebuild",
        rule,
        patch: {
          ...req.patch,
          ...keys,
          image_ref: req.imageRef,
          request_spec: { ...inst.request_spec, image: image },
          ...(req.diskConfig ? { sysmeta: { set: { disk_config: req.diskConfig } } } : {}),
          task_state: T.REBUILDING,
          progress: 0,
        },
      });
      if (req.metadata) await replaceMetadata(core, inst.uuid, req.metadata);
      // The answer shows the server as the rebuild starts (REBUILD), whatever the agent does meanwhile.
      const now = (await findInstance(core.db, inst.uuid)) ?? inst;
      await core.bus.cast(agentTarget(host), "rebuild_instance", {
        ctx: rc,
        uuid: inst.uuid,
        imageRef: req.imageRef,
        evacuate: false,
      });
      const server: Record<string, unknown> = {
        ...(await serverView(core, ctx, now, { update: true })),
        adminPass: req.password,
      };
      // Rebuild's view: key_name from 2.54, user_data from 2.57, never the admin-only OS-EXT-SRV-ATTR:user_data.
      delete server["OS-EXT-SRV-ATTR:user_data"];
      if (ctx.microversion.gte("2.54")) server.key_name = now.key_name;
      if (ctx.microversion.gte("2.57")) server.user_data = now.user_data;
      const self = serverLinks(ctx, inst.uuid)[0].href;
      return reply(202, { server }, { location: self });
    },
  },
};

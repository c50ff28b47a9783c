// Manage and unmanage (Cinder's os-volume-manage, manageable_volumes 3.8 and the os-unmanage action, admin only):
// adopt data a backend already holds (the `file` backend: a file in its directory, by name) as a new volume, and
// forget a volume while its data stays on the backend, under a name manage takes again (`volume-<id>`).
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { defaultTypeId } from "../default-types.js";
import { refuseEncryptedType } from "../encryption.js";
import { badRequest, invalidInput, invalidVolume, typeNotFound } from "../errors.js";
import { checkQuota, underQuota } from "../quotas.js";
import { agentOf, backendNameOf, poolsUp } from "../scheduler.js";
import { attachmentsOf } from "../store/attachments.js";
import { mapText, type VolumeRow } from "../store/rows.js";
import { snapshotsOf } from "../store/snapshots.js";
import { findType } from "../store/types.js";
import { insertVolume, newVolumeRow, transitionVolume } from "../store/volumes.js";
import { boolOf, callerOf, field, metadataOf, optString, ownerOf, type Ctx, wrapped } from "./common.js";
import { TypeCache, volumeView } from "./views.js";

const P = "/v3/:project_id";

/** The pool ("host@backend#pool") a manage request names ("host@backend" or the pool), or 400. */
async function poolOf(core: VolumeCore, host: string, zone: string): Promise<string> {
  const pool = (await poolsUp(core, zone)).find((p) => p.host === host || p.host.split("#", 1)[0] === host);
  if (!pool) throw invalidInput(`Invalid host: No available service named ${host}`);
  return pool.host;
}

/** POST os-volume-manage: a `managing` volume on the named host, adopted by its agent. */
async function manage(core: VolumeCore, ctx: Ctx) {
  const b = wrapped(ctx, "volume");
  const caller = callerOf(ctx);
  const project = ownerOf(ctx);
  const host = optString(b, "host", 255);
  if (!host) throw invalidInput("The 'host' is required to manage a volume.");
  const ref = field(b, "ref");
  if (ref === null || typeof ref !== "object" || Array.isArray(ref))
    throw invalidInput("Missing required element 'ref' in request body.");
  const name = (ref as Record<string, unknown>)["source-name"];
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(name))
    throw invalidInput("Manage existing volume failed: the reference needs a valid 'source-name'.");
  const zone = optString(b, "availability_zone") ?? core.cfg.volume.availabilityZone;
  if (zone !== core.cfg.volume.availabilityZone)
    throw invalidInput(`Availability zone '${zone}' is invalid.`);
  const pool = await poolOf(core, host, zone);
  const typeName = optString(b, "volume_type") ?? null;
  let typeId = typeName === null ? await defaultTypeId(core, project) : null;
  if (typeName !== null) {
    const t = await findType(core, caller, typeName);
    if (!t) throw typeNotFound(typeName);
    typeId = t.id;
  }
  await refuseEncryptedType(core, typeId);
  const bootable = field(b, "bootable") === undefined ? false : boolOf("bootable", field(b, "bootable"));
  const metadata =
    field(b, "metadata") == null ? new Map<string, string>() : metadataOf(field(b, "metadata"));
  const row: VolumeRow = newVolumeRow(core, {
    project_id: project,
    user_id: caller.userId,
    name: optString(b, "name") ?? null,
    description: optString(b, "description") ?? null,
    // The size is the data's, set by the agent once adopted.
    size: 1,
    status: "managing",
    availability_zone: zone,
    volume_type_id: typeId,
    bootable: bootable ? 1 : 0,
    metadata: mapText(metadata),
    host: pool,
  });
  await underQuota(core, project, async (c) => {
    await checkQuota(c, project, { volumes: 1, gigabytes: 1, typeId });
    await insertVolume(c, row);
  });
  await core.agents.cast(agentOf(pool), "manage_volume", {
    volumeId: row.id,
    ref: name,
    requestId: ctx.requestId,
  });
  return reply(202, { volume: await volumeView(ctx, core, row, new TypeCache(core), caller.isAdmin, false) });
}

/** GET manageable_volumes (and /detail): what the host's backend could adopt. */
async function manageable(core: VolumeCore, ctx: Ctx, detail: boolean) {
  const host = ctx.query.host;
  if (typeof host !== "string" || !host) throw invalidInput("Either 'host' or 'cluster' must be specified.");
  let list: Array<{ ref: string; sizeGb: number }>;
  try {
    list = await core.agents.call(agentOf(host), "list_manageable", { backend: backendNameOf(host) });
  } catch (err) {
    throw badRequest(`Invalid host: ${host} (${err instanceof Error ? err.message : String(err)})`);
  }
  return {
    "manageable-volumes": list.map((m) => ({
      reference: { "source-name": m.ref },
      size: m.sizeGb,
      safe_to_manage: true,
      ...(detail ? { reason_not_safe: null, cinder_id: null, extra_info: null } : {}),
    })),
  };
}

/** The os-unmanage action: forget the volume, keeping its data on the backend. */
export async function unmanageAction(core: VolumeCore, ctx: Ctx, v: VolumeRow) {
  if (!["available", "error", "error_managing", "error_extending"].includes(v.status))
    throw invalidVolume(`Volume status must be available or error to unmanage, but it is ${v.status}.`);
  if ((await attachmentsOf(core, v.id)).length > 0) throw invalidVolume(`Volume ${v.id} is attached.`);
  if ((await snapshotsOf(core, v.id)).length > 0)
    throw invalidVolume(`Volume ${v.id} still has dependent snapshots.`);
  if (v.group_id) throw invalidVolume(`Volume ${v.id} must not be part of a group.`);
  if (!v.host) throw invalidVolume(`Volume ${v.id} has no host.`);
  if (!(await transitionVolume(core, v.id, [v.status], { status: "unmanaging" })))
    throw invalidVolume(`Volume ${v.id} status changed; try again.`);
  await core.agents.cast(agentOf(v.host), "unmanage_volume", { volumeId: v.id, requestId: ctx.requestId });
  return reply(202, undefined);
}

/** Routes of os-volume-manage and manageable_volumes. */
export function manageRoutes(core: VolumeCore): Route[] {
  const list = (path: string, detail: boolean, since?: string): Route =>
    route({
      method: "GET",
      path,
      policy: "volume_extension:list_manageable",
      handler: (ctx) => {
        if (since && !ctx.microversion.gte(since)) throw badRequest(`${path} needs microversion ${since}`);
        return manageable(core, ctx, detail);
      },
    });
  return [
    route({
      method: "POST",
      path: `${P}/os-volume-manage`,
      policy: "volume_extension:volume_manage",
      handler: (ctx) => manage(core, ctx),
    }),
    list(`${P}/os-volume-manage`, false),
    list(`${P}/os-volume-manage/detail`, true),
    list(`${P}/manageable_volumes`, false, "3.8"),
    list(`${P}/manageable_volumes/detail`, true, "3.8"),
  ];
}

// Nova's volume proxy API (os-volumes, removed at 2.36) over the block storage service: list, show, create and
// delete the caller's volumes in Nova's camelCase view. The block storage client acts in the caller's project.
import { ApiError } from "../../../shared/http/errors.js";
import { reply } from "../../../shared/http/reply.js";
import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { VolumeRefused, type CinderVolume, type VolumeClient } from "../../volume-client.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { limited, objectBody, type Ctx } from "../common.js";
import { proxyRoute } from "./proxy.js";

const R = "os_compute_api:os-volumes";

/** Policy defaults of os-volumes (Nova's names). */
export const volumeProxyPolicies: RuleDefault[] = [
  policyRule(`${R}:list`, ADMIN_OR_PROJECT, "List volumes (proxy).", "GET", "/os-volumes"),
  policyRule(
    `${R}:detail`,
    ADMIN_OR_PROJECT,
    "List volumes with details (proxy).",
    "GET",
    "/os-volumes/detail",
  ),
  policyRule(`${R}:show`, ADMIN_OR_PROJECT, "Show a volume (proxy).", "GET", "/os-volumes/{volume_id}"),
  policyRule(`${R}:create`, PROJECT_MEMBER, "Create a volume (proxy).", "POST", "/os-volumes"),
  policyRule(`${R}:delete`, PROJECT_MEMBER, "Delete a volume (proxy).", "DELETE", "/os-volumes/{volume_id}"),
];

/** Nova's view of a volume (attachments is [{}] when there are none, as Nova shows it; an attachment's id is the
 *  volume's). */
function novaVolume(v: CinderVolume): Record<string, unknown> {
  const atts = (v.attachments ?? []).map((a) => ({
    id: v.id,
    volumeId: v.id,
    serverId: a.server_id,
    ...(a.device ? { device: a.device } : {}),
  }));
  return {
    id: v.id,
    status: v.status,
    size: v.size,
    availabilityZone: v.availability_zone ?? null,
    createdAt: v.created_at ?? null,
    attachments: atts.length > 0 ? atts : [{}],
    displayName: v.name ?? null,
    displayDescription: v.description ?? null,
    volumeType: v.volume_type ?? null,
    snapshotId: v.snapshot_id ?? null,
    metadata: v.metadata ?? {},
  };
}

/** The block storage client, or Nova's 503 when the cloud has none. */
export function client(core: ComputeCore): VolumeClient {
  if (!core.volume) throw new ApiError(503, "Block Storage service is unavailable.");
  return core.volume;
}

/** Block storage refusals as Nova passes them on. */
function refused(id: string) {
  return (e: unknown): never => {
    if (e instanceof VolumeRefused && e.status === 404) throw notFound(`Volume ${id} could not be found.`);
    if (e instanceof VolumeRefused && e.status < 500) throw badRequest(e.message);
    throw e;
  };
}

/** The body of POST /os-volumes as the block storage service takes it. */
function createBody(ctx: Ctx) {
  const v = objectBody(ctx).volume;
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw badRequest("Invalid input for field/attribute volume. 'volume' is a required property");
  const b = v as Record<string, unknown>;
  const known = [
    "size",
    "display_name",
    "display_description",
    "volume_type",
    "metadata",
    "availability_zone",
    "snapshot_id",
  ];
  for (const k of Object.keys(b))
    if (!known.includes(k)) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  const size = typeof b.size === "string" && /^\d+$/.test(b.size) ? Number(b.size) : b.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1)
    throw badRequest(`Invalid input for field/attribute size. Value: ${String(b.size)}.`);
  const opt = (k: string) => {
    if (b[k] === undefined || b[k] === null) return undefined;
    if (typeof b[k] !== "string") throw badRequest(`Invalid input for field/attribute ${k}.`);
    return b[k] as string;
  };
  const meta = b.metadata;
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta)))
    throw badRequest("Invalid input for field/attribute metadata.");
  const name = opt("display_name") ?? "";
  const description = opt("display_description");
  const type = opt("volume_type");
  const az = opt("availability_zone");
  const snap = opt("snapshot_id");
  return {
    size,
    name,
    ...(description !== undefined ? { description } : {}),
    ...(type !== undefined ? { volume_type: type } : {}),
    ...(az !== undefined ? { availability_zone: az } : {}),
    ...(snap !== undefined ? { snapshot_id: snap } : {}),
    ...(meta !== undefined ? { metadata: meta as Record<string, string> } : {}),
  };
}

/** Routes of os-volumes. */
export function volumeProxyRoutes(core: ComputeCore): Route[] {
  const project = (ctx: Ctx) => ctx.auth?.projectId ?? "";
  const list = async (ctx: Ctx) => ({
    volumes: limited(ctx, await client(core).listVolumes(project(ctx))).map(novaVolume),
  });
  return [
    proxyRoute("GET", "/v2.1/os-volumes", `${R}:list`, list),
    proxyRoute("GET", "/v2.1/os-volumes/detail", `${R}:detail`, list),
    proxyRoute("GET", "/v2.1/os-volumes/:id", `${R}:show`, async (ctx) => ({
      volume: novaVolume(
        await client(core).showVolume(project(ctx), ctx.params.id).catch(refused(ctx.params.id)),
      ),
    })),
    proxyRoute("POST", "/v2.1/os-volumes", `${R}:create`, async (ctx) => ({
      volume: novaVolume(await client(core).createVolume(project(ctx), createBody(ctx)).catch(refused(""))),
    })),
    proxyRoute("DELETE", "/v2.1/os-volumes/:id", `${R}:delete`, async (ctx) => {
      await client(core).deleteVolume(project(ctx), ctx.params.id).catch(refused(ctx.params.id));
      return reply(202, undefined);
    }),
  ];
}

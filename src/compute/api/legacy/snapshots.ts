// Nova's volume snapshot proxy API (os-snapshots, removed at 2.36) over the block storage service: list, detail,
// show, create (force snapshots an in-use volume) and delete the caller's snapshots in Nova's camelCase view.
import { reply } from "../../../shared/http/reply.js";
import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { VolumeRefused, type CinderSnapshot } from "../../volume-client.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { limited, objectBody, type Ctx } from "../common.js";
import { proxyRoute } from "./proxy.js";
import { client } from "./volumes.js";

const R = "os_compute_api:os-volumes:snapshots";

/** Policy defaults of os-snapshots (Nova's names). */
export const snapshotProxyPolicies: RuleDefault[] = [
  policyRule(`${R}:list`, ADMIN_OR_PROJECT, "List snapshots (proxy).", "GET", "/os-snapshots"),
  policyRule(
    `${R}:detail`,
    ADMIN_OR_PROJECT,
    "List snapshots with details (proxy).",
    "GET",
    "/os-snapshots/detail",
  ),
  policyRule(`${R}:show`, ADMIN_OR_PROJECT, "Show a snapshot (proxy).", "GET", "/os-snapshots/{snapshot_id}"),
  policyRule(`${R}:create`, PROJECT_MEMBER, "Create a snapshot (proxy).", "POST", "/os-snapshots"),
  policyRule(
    `${R}:delete`,
    PROJECT_MEMBER,
    "Delete a snapshot (proxy).",
    "DELETE",
    "/os-snapshots/{snapshot_id}",
  ),
];

/** Nova's view of a snapshot. */
function novaSnapshot(s: CinderSnapshot): Record<string, unknown> {
  return {
    id: s.id,
    volumeId: s.volume_id,
    status: s.status,
    size: s.size,
    createdAt: s.created_at ?? null,
    displayName: s.name ?? null,
    displayDescription: s.description ?? null,
  };
}

/** Block storage refusals as Nova passes them on (a missing snapshot, or volume, is 404). */
function refused(what: string) {
  return (e: unknown): never => {
    if (e instanceof VolumeRefused && e.status === 404) throw notFound(`${what} could not be found.`);
    if (e instanceof VolumeRefused && e.status < 500) throw badRequest(e.message);
    throw e;
  };
}

const TRUE = ["1", "t", "true", "on", "y", "yes"];
const FALSE = ["0", "f", "false", "off", "n", "no"];

/** The body of POST /os-snapshots as the block storage service takes it (Nova's snapshot_create schema). */
function createBody(ctx: Ctx) {
  const v = objectBody(ctx).snapshot;
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw badRequest("Invalid input for field/attribute snapshot. 'snapshot' is a required property");
  const b = v as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!["volume_id", "force", "display_name", "display_description"].includes(k))
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  if (typeof b.volume_id !== "string" || b.volume_id.length > 255)
    throw badRequest("Invalid input for field/attribute volume_id. 'volume_id' is a required property");
  const str = (k: string) => {
    if (b[k] === undefined) return undefined;
    if (typeof b[k] !== "string" || (b[k] as string).length > 255)
      throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(b[k])}.`);
    return b[k] as string;
  };
  const f = b.force;
  const word = typeof f === "string" ? f.toLowerCase() : undefined;
  if (f !== undefined && typeof f !== "boolean" && !(word && (TRUE.includes(word) || FALSE.includes(word))))
    throw badRequest(`Invalid input for field/attribute force. Value: ${String(f)}.`);
  const description = str("display_description");
  return {
    volume_id: b.volume_id,
    name: str("display_name") ?? "",
    ...(description !== undefined ? { description } : {}),
    force: f === true || (word !== undefined && TRUE.includes(word)),
  };
}

/** Routes of os-snapshots. */
export function snapshotProxyRoutes(core: ComputeCore): Route[] {
  const project = (ctx: Ctx) => ctx.auth?.projectId ?? "";
  const list = async (ctx: Ctx) => ({
    snapshots: limited(ctx, await client(core).listSnapshots(project(ctx))).map(novaSnapshot),
  });
  return [
    proxyRoute("GET", "/v2.1/os-snapshots", `${R}:list`, list),
    proxyRoute("GET", "/v2.1/os-snapshots/detail", `${R}:detail`, list),
    proxyRoute("GET", "/v2.1/os-snapshots/:id", `${R}:show`, async (ctx) => ({
      snapshot: novaSnapshot(
        await client(core)
          .showSnapshot(project(ctx), ctx.params.id)
          .catch(refused(`Snapshot ${ctx.params.id}`)),
      ),
    })),
    proxyRoute("POST", "/v2.1/os-snapshots", `${R}:create`, async (ctx) => {
      const body = createBody(ctx);
      return {
        snapshot: novaSnapshot(
          await client(core)
            .createSnapshot(project(ctx), body)
            .catch(refused(`Volume ${body.volume_id}`)),
        ),
      };
    }),
    proxyRoute("DELETE", "/v2.1/os-snapshots/:id", `${R}:delete`, async (ctx) => {
      await client(core)
        .deleteSnapshot(project(ctx), ctx.params.id)
        .catch(refused(`Snapshot ${ctx.params.id}`));
      return reply(202, undefined);
    }),
  ];
}

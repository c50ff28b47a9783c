// Nova's image proxy (/images, removed at 2.36): list, detail, show and delete images of the image service with
// the caller's token, in Nova's shape. The image service decides visibility and permissions.
import { noContent } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { notFound } from "../../errors.js";
import { MAX_LIMIT, type Ctx } from "../common.js";
import { queryNonNegInt } from "../admin/util.js";
import { imageBaseUrl } from "../server-actions/images.js";
import { deleteImage, getImage, listImages, type ProxyImage } from "./glance.js";

/** Query parameters Nova maps to image service filters. */
const FILTERS = new Map<string, string>([
  ["name", "name"],
  ["status", "status"],
  ["changes-since", "changes-since"],
  ["server", "instance_uuid"],
  ["type", "image_type"],
  ["minRam", "min_ram"],
  ["minDisk", "min_disk"],
]);

/** 404 above `max` (2.35 by default: Nova removed its proxy APIs at 2.36). */
export function removedAfter(ctx: Ctx, max = "2.35"): void {
  if (ctx.microversion.cmp(max) > 0) throw notFound("The resource could not be found.");
}

/** Nova's status of a Glance status. */
export function novaStatus(status: string): string {
  const map: Record<string, string> = {
    active: "ACTIVE",
    queued: "SAVING",
    saving: "SAVING",
    deleted: "DELETED",
    pending_delete: "DELETED",
    killed: "ERROR",
  };
  return map[status] ?? "UNKNOWN";
}

const PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };

/** A time as Nova's isotime prints it (seconds, Z). */
function isoTime(v: string | null): string | null {
  if (v === null) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function links(core: ComputeCore, ctx: Ctx, id: string) {
  return [
    { rel: "self", href: `${ctx.serviceUrl}/v2.1/images/${id}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}/images/${id}` },
    {
      rel: "alternate",
      type: "application/vnd.openstack.image",
      href: `${imageBaseUrl(core, ctx)}/images/${id}`,
    },
  ];
}

/** Nova's strutils.bool_from_string (non-strict). */
const truthy = (v: unknown) => ["1", "t", "true", "on", "y", "yes"].includes(String(v).trim().toLowerCase());

/** The detailed image view. */
export function imageView(core: ComputeCore, ctx: Ctx, img: ProxyImage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: img.id,
    name: img.name,
    minRam: img.min_ram,
    minDisk: img.min_disk,
    metadata: img.properties,
    created: isoTime(img.created_at),
    updated: isoTime(img.updated_at),
    status: novaStatus(img.status),
    progress: PROGRESS[img.status] ?? 0,
    "OS-EXT-IMG-SIZE:size": img.size,
    links: links(core, ctx, img.id),
  };
  const server = img.properties.instance_uuid;
  if (typeof server === "string" && server !== "")
    out.server = {
      id: server,
      links: [
        { rel: "self", href: `${ctx.serviceUrl}/v2.1/servers/${server}` },
        { rel: "bookmark", href: `${ctx.serviceUrl}/servers/${server}` },
      ],
    };
  const auto = img.properties.auto_disk_config;
  if (auto !== undefined && auto !== null) out["OS-DCF:diskConfig"] = truthy(auto) ? "AUTO" : "MANUAL";
  return out;
}

/** The image service query for Nova's filters and page parameters. */
function glanceQuery(ctx: Ctx): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (v === undefined) continue;
    const name = FILTERS.get(k) ?? (k.startsWith("property-") ? k.slice("property-".length) : undefined);
    if (!name) continue;
    if (name === "changes-since") q.set("updated_at", `gte:${v}`);
    else if (name === "status") q.set(name, v.toLowerCase());
    else if (name === "instance_uuid") q.set(name, v.includes("/") ? v.slice(v.lastIndexOf("/") + 1) : v);
    else q.set(name, v);
  }
  if (ctx.query.marker !== undefined) q.set("marker", ctx.query.marker);
  return q;
}

async function list(core: ComputeCore, ctx: Ctx, detail: boolean) {
  removedAfter(ctx);
  const limit = queryNonNegInt(ctx, "limit");
  queryNonNegInt(ctx, "page_size");
  queryNonNegInt(ctx, "offset");
  // Nova asks for everything when limit is 0 or absent, and links a next page only when the page is full.
  const max = Math.min(limit || MAX_LIMIT, MAX_LIMIT);
  const images = await listImages(core, ctx, glanceQuery(ctx), max);
  const out: Record<string, unknown> = {
    images: images.map((img) =>
      detail ? imageView(core, ctx, img) : { id: img.id, name: img.name, links: links(core, ctx, img.id) },
    ),
  };
  if (limit !== 0 && images.length && images.length === max) {
    const params = new Map(Object.entries(ctx.query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    params.set("marker", images[images.length - 1].id);
    const qs = new URLSearchParams([...params].map(([k, v]): [string, string] => [k, v ?? ""])).toString();
    out.images_links = [
      { rel: "next", href: `${ctx.serviceUrl}/v2.1/images${detail ? "/detail" : ""}?${qs}` },
    ];
  }
  return out;
}

/** GET /images, /images/detail, /images/{id}; DELETE /images/{id}. */
export function imageRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/images",
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => list(core, ctx, false),
    }),
    route({
      method: "GET",
      path: "/v2.1/images/detail",
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => list(core, ctx, true),
    }),
    route({
      method: "GET",
      path: "/v2.1/images/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx);
        return { image: imageView(core, ctx, await getImage(core, ctx, ctx.params.id)) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.1/images/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx);
        await deleteImage(core, ctx, ctx.params.id);
        return noContent();
      },
    }),
  ];
}

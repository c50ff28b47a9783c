// Nova's image metadata proxy (/images/{id}/metadata, removed at 2.39): the image's properties, read and written
// through the image service with the caller's token.
import { noContent } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, forbidden, notFound } from "../../errors.js";
import { invalid, objectBody, type Ctx } from "../common.js";
import { projectLimits } from "../quotas.js";
import { metadataField } from "../server-actions/common.js";
import { getImage, replaceProperties } from "./glance.js";
import { removedAfter } from "./images.js";

const MAX = "2.38";

/** The body's only member `name` as Nova's metadata (closed object), or 400. */
function metadataBody(ctx: Ctx, name: "metadata" | "meta"): Record<string, string> {
  const body = objectBody(ctx);
  for (const k of Object.keys(body))
    if (k !== name) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  if (!Object.hasOwn(body, name))
    throw badRequest(`Invalid input for field/attribute ${name}. '${name}' is a required property`);
  const meta = metadataField(name, body[name]);
  const n = Object.keys(meta).length;
  if (name === "meta" && n < 1) throw invalid(name, meta, "{} does not have enough properties");
  if (name === "meta" && n > 1) throw invalid(name, meta, `${JSON.stringify(meta)} has too many properties`);
  return meta;
}

/** Nova's check_img_metadata_properties_quota: 403 beyond the project's metadata_items. */
async function checkQuota(core: ComputeCore, ctx: Ctx, props: Record<string, unknown>): Promise<void> {
  const limit = (await projectLimits(core.db, ctx.auth?.projectId ?? "")).metadata_items;
  if (limit >= 0 && Object.keys(props).length > limit) throw forbidden("Image metadata limit exceeded");
}

/** Properties as strings (Glance keeps only strings; Nova sends them back as such). */
const strings = (p: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));

/** GET/POST/PUT /images/{id}/metadata and GET/PUT/DELETE /images/{id}/metadata/{key}. */
export function imageMetadataRoutes(core: ComputeCore): Route[] {
  const P = "/v2.1/images/:image_id/metadata";
  return [
    route({
      method: "GET",
      path: P,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        return { metadata: (await getImage(core, ctx, ctx.params.image_id)).properties };
      },
    }),
    route({
      method: "POST",
      path: P,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        const meta = metadataBody(ctx, "metadata");
        const img = await getImage(core, ctx, ctx.params.image_id);
        const props = { ...strings(img.properties), ...meta };
        await checkQuota(core, ctx, props);
        return { metadata: (await replaceProperties(core, ctx, img, props)).properties };
      },
    }),
    route({
      method: "PUT",
      path: P,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        const meta = metadataBody(ctx, "metadata");
        const img = await getImage(core, ctx, ctx.params.image_id);
        await checkQuota(core, ctx, meta);
        await replaceProperties(core, ctx, img, meta);
        return { metadata: meta };
      },
    }),
    route({
      method: "GET",
      path: `${P}/:key`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        const props = (await getImage(core, ctx, ctx.params.image_id)).properties;
        const key = ctx.params.key;
        if (!Object.hasOwn(props, key)) throw notFound("The resource could not be found.");
        return { meta: { [key]: props[key] } };
      },
    }),
    route({
      method: "PUT",
      path: `${P}/:key`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        const meta = metadataBody(ctx, "meta");
        const key = ctx.params.key;
        if (!Object.hasOwn(meta, key)) throw badRequest("Request body and URI mismatch");
        const img = await getImage(core, ctx, ctx.params.image_id);
        const props = { ...strings(img.properties), [key]: meta[key] };
        await checkQuota(core, ctx, props);
        await replaceProperties(core, ctx, img, props);
        return { meta };
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/:key`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        const img = await getImage(core, ctx, ctx.params.image_id);
        const key = ctx.params.key;
        if (!Object.hasOwn(img.properties, key)) throw notFound("Invalid metadata key");
        const props = strings(img.properties);
        delete props[key];
        await replaceProperties(core, ctx, img, props);
        return noContent();
      },
    }),
  ];
}

import { ApiError, badRequest } from "../../shared/http/errors.js";
import { reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { ImageCore } from "../core.js";
import { enabledImportMethods, launchImport, uriProblem } from "../import.js";
import { admitUpload, quotaLimit } from "../quotas.js";
import { changeStatus, projectUsage, setProperties } from "../store/images.js";
import { createTask, tasksOfImage } from "../store/tasks.js";
import { callerOf, enforceImage, loadImage } from "./common.js";
import { renderTask } from "./view.js";

type Ctx = RequestCtx<any, any, any>;

/** Validate an import body as Glance's deserializer does. */
function parseImportBody(
  core: ImageCore,
  body: unknown,
): { name: string; uri: unknown; stores: unknown; allStores: boolean } {
  if (body === undefined || body === null) throw badRequest("Body expected in request.");
  if (typeof body !== "object" || Array.isArray(body))
    throw badRequest("Import request requires a 'method' field.");
  const b = body as Record<string, unknown>;
  const method = b.method;
  if (method === undefined) throw badRequest("Import request requires a 'method' field.");
  if (
    !method ||
    typeof method !== "object" ||
    Array.isArray(method) ||
    (method as Record<string, unknown>).name === undefined
  )
    throw badRequest("Import request requires a 'name' field.");
  const name = (method as Record<string, unknown>).name;
  if (typeof name !== "string" || !enabledImportMethods(core).includes(name))
    throw badRequest(`Unknown import method name '${String(name)}'.`);
  const mustSucceed = b.all_stores_must_succeed ?? true;
  if (typeof mustSucceed !== "boolean")
    throw badRequest("'all_stores_must_succeed' must be boolean value only");
  const allStores = b.all_stores ?? false;
  if (typeof allStores !== "boolean") throw badRequest("'all_stores' must be boolean value only");
  return { name, uri: (method as Record<string, unknown>).uri, stores: b.stores, allStores };
}

async function importImage(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const body = parseImportBody(core, ctx.body);
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  const maxBytes = await admitUpload(core, img.owner);
  const method = body.name as "glance-direct" | "web-download";
  if (img.status === "active")
    throw new ApiError(409, "Image with status active cannot be target for import");
  if (method === "web-download" && img.status !== "queued")
    throw new ApiError(409, `Image needs to be in 'queued' state to use '${method}' method`);
  if (method === "glance-direct" && img.status !== "uploading")
    throw new ApiError(409, "Image needs to be staged before 'glance-direct' method can be used");
  if (!img.container_format) throw new ApiError(409, "'container_format' needs to be set before import");
  if (!img.disk_format) throw new ApiError(409, "'disk_format' needs to be set before import");
  enforceImage(ctx, caller, img, "modify_image");
  const header = ctx.headers["x-image-meta-store"];
  const requested: unknown[] = body.allStores
    ? [...core.stores.keys()]
    : Array.isArray(body.stores)
      ? body.stores
      : typeof header === "string" && header
        ? [header]
        : [core.defaultStore.id];
  for (const s of requested)
    if (typeof s !== "string" || !core.stores.has(s))
      throw new ApiError(409, `Unknown scheme '${String(s)}' found in URI`);
  if (method === "web-download" && uriProblem(core, body.uri) !== null)
    throw badRequest(`URI for web-download does not pass filtering: ${String(body.uri)}`);
  const from = method === "glance-direct" ? "uploading" : "queued";
  if (!(await changeStatus(core, img.id, from, "importing")))
    throw new ApiError(
      409,
      `New operation on image '${img.id}' is not permitted as prior operation is still in progress`,
    );
  const task = await createTask(core, {
    image_id: img.id,
    owner: caller.projectId,
    user_id: caller.userId,
    request_id: ctx.requestId,
    input: { image_id: img.id, import_req: ctx.body, backend: requested },
  });
  await setProperties(core, img.id, {
    os_glance_import_task: task.id,
    os_glance_importing_to_stores: requested.join(","),
    os_glance_failed_import: "",
  });
  img.status = "importing";
  launchImport(core, {
    image: img,
    method,
    ...(method === "web-download" ? { uri: body.uri as string } : {}),
    taskId: task.id,
    maxBytes,
  });
  return reply(202, undefined);
}

const MiB = 1024 * 1024;

/** Discovery and the import API. */
export function importRoutes(core: ImageCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v2/images/:image_id/import",
      policy: null,
      auth: "required",
      handler: (ctx) => importImage(ctx, core),
    }),
    route({
      method: "GET",
      path: "/v2/images/:image_id/tasks",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const img = await loadImage(ctx, core, ctx.params.image_id);
        return { tasks: (await tasksOfImage(core, img.id)).map(renderTask) };
      },
    }),
    route({
      method: "GET",
      path: "/v2/info/import",
      policy: null,
      auth: "required",
      handler: () => ({
        "import-methods": {
          description: "Import methods available.",
          type: "array",
          value: enabledImportMethods(core),
        },
      }),
    }),
    route({
      method: "GET",
      path: "/v2/info/stores",
      policy: null,
      auth: "required",
      handler: () => ({
        stores: [...core.stores.values()].map((s) => ({
          id: s.id,
          description:
            s.id === "file" ? "Image data in files on the cloud's data directory" : `${s.id} store`,
          ...(s === core.defaultStore ? { default: "true" } : {}),
        })),
      }),
    }),
    route({
      method: "GET",
      path: "/v2/info/usage",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const project = ctx.auth?.projectId ?? null;
        const usage = project
          ? await projectUsage(core, project)
          : { count: 0, uploading: 0, size: 0, staged: 0 };
        // As Glance with keystone limits: sizes in MiB.
        const lim = (
          n: "imageSizeTotal" | "imageStageTotal" | "imageCountTotal" | "imageCountUploading",
          mib: boolean,
        ) => {
          const l = quotaLimit(core, project, n);
          return l < 0 ? -1 : mib ? Math.floor(l / MiB) : l;
        };
        return {
          usage: {
            image_size_total: { limit: lim("imageSizeTotal", true), usage: Math.ceil(usage.size / MiB) },
            image_stage_total: { limit: lim("imageStageTotal", true), usage: Math.ceil(usage.staged / MiB) },
            image_count_total: { limit: lim("imageCountTotal", false), usage: usage.count },
            image_count_uploading: { limit: lim("imageCountUploading", false), usage: usage.uploading },
          },
        };
      },
    }),
  ];
}

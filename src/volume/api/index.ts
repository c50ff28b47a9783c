import { manageRoutes } from "./manage.js";
import { badRequest, notFound } from "../errors.js";
import type { Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { actionRoutes } from "./actions.js";
import { adminRoutes } from "./admin.js";
import { attachmentRoutes } from "./attachments.js";
import { backupRoutes } from "./backups.js";
import type { Ctx } from "./common.js";
import { defaultTypeRoutes } from "./default-types.js";
import { extensionRoutes } from "./extensions.js";
import { groupSnapshotRoutes } from "./group-snapshots.js";
import { groupTypeRoutes } from "./group-types.js";
import { groupRoutes } from "./groups.js";
import { hostRoutes } from "./hosts.js";
import { quotaRoutes } from "./quotas.js";
import { snapshotRoutes } from "./snapshots.js";
import { summaryRoutes } from "./summary.js";
import { transferRoutes } from "./transfers.js";
import { typeEncryptionRoutes } from "./type-encryption.js";
import { typeRoutes } from "./types.js";
import { versionRoutes } from "./versions.js";
import { volumeRoutes } from "./volumes.js";

/** Cinder refuses a URL whose project is not the token's (system-scoped tokens have none to compare). */
function checkUrlProject(ctx: Ctx): void {
  const url = ctx.params.project_id;
  const own = ctx.auth?.projectId;
  if (url !== undefined && own && url !== own)
    throw badRequest(
      `Malformed request URL: URL's project_id '${url}' doesn't match Context's project_id '${own}'`,
    );
}

/** Cinder's router has no route for a project URL with a trailing slash (`volumes/`: an empty id): 404. */
function checkNoTrailingSlash(ctx: Ctx): void {
  if (ctx.url.split("?", 1)[0].endsWith("/")) throw notFound("The resource could not be found.");
}

/** A route that checks the URL's project before its target and its handler. */
function scoped(r: Route): Route {
  if (!r.path.includes(":project_id")) return r;
  const { target, handler } = r;
  return {
    ...r,
    ...(target
      ? {
          target: (ctx: Ctx) => {
            checkNoTrailingSlash(ctx);
            checkUrlProject(ctx);
            return target(ctx);
          },
        }
      : {}),
    handler: (ctx: Ctx) => {
      checkNoTrailingSlash(ctx);
      checkUrlProject(ctx);
      return handler(ctx);
    },
  };
}

/** Every route of the Block Storage API (Cinder v3, below /volume). */
export function volumeApiRoutes(core: VolumeCore): Route[] {
  return [
    ...versionRoutes(),
    ...volumeRoutes(core),
    ...actionRoutes(core),
    ...snapshotRoutes(core),
    ...attachmentRoutes(core),
    ...backupRoutes(core),
    ...typeRoutes(core),
    ...typeEncryptionRoutes(core),
    ...quotaRoutes(core),
    ...adminRoutes(core),
    ...transferRoutes(core),
    ...defaultTypeRoutes(core),
    ...hostRoutes(core),
    ...manageRoutes(core),
    ...extensionRoutes(),
    ...summaryRoutes(core),
    ...groupTypeRoutes(core),
    ...groupRoutes(core),
    ...groupSnapshotRoutes(core),
  ].map(scoped);
}

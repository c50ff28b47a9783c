// How object versioning (object-versioning.ts) joins the Swift routes: handlers wrapped so that `?versions`
// listings, `?version-id=` requests, X-Versions-Enabled and the DELETE of a versioning container take their turn
// before (or after) the plain handler.
import type { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import {
  checkVersionsEmpty,
  listVersions,
  setVersioning,
  versionRequest,
  versionsRequest,
} from "./object-versioning.js";
import { header, param, swiftPath, type Ctx } from "./request.js";
import { authorizeAccount } from "./account-acl.js";

/** A Swift handler. */
type Handler = (ctx: Ctx, core: ObjectCore) => Promise<Reply>;

/** Container GET with `?versions` lists every version. */
export const withVersionsListing =
  (h: Handler): Handler =>
  (ctx, core) =>
    ctx.method === "GET" && param(ctx, "versions") !== undefined ? listVersions(ctx, core) : h(ctx, core);

/** Container PUT/POST: X-Versions-Enabled checked first, applied once the container is written. */
export const withVersionsEnabled =
  (h: Handler): Handler =>
  async (ctx, core) => {
    const { account, container } = swiftPath(ctx, core);
    if (container === undefined || param(ctx, "extract-archive") !== undefined) return h(ctx, core);
    await authorizeAccount(ctx, core, account, "write");
    const on = await versionsRequest(ctx, core, account, container);
    const r = await h(ctx, core);
    if (on !== undefined && r.status < 300) await setVersioning(core, account, container, on);
    return r;
  };

/** Container DELETE: refused while versions are kept; the hidden versions container goes with it. */
export const withVersionsRemoved =
  (h: Handler): Handler =>
  async (ctx, core) => {
    const { account, container } = swiftPath(ctx, core);
    if (container === undefined) return h(ctx, core);
    await authorizeAccount(ctx, core, account, "write");
    const after = await checkVersionsEmpty(core, account, container);
    const r = await h(ctx, core);
    if (r.status < 300) await after();
    return r;
  };

/** Whether a request is a copy (COPY, or PUT with X-Copy-From): its `?version-id=` names the source's version. */
const isCopy = (ctx: Ctx): boolean =>
  ctx.method === "COPY" || (ctx.method === "PUT" && header(ctx, "x-copy-from") !== undefined);

/** Object requests with `?version-id=` address one version (a copy's, its source's: the copy handles it). */
export const withVersionId =
  (h: Handler): Handler =>
  (ctx, core) =>
    param(ctx, "version-id") !== undefined && !isCopy(ctx) ? versionRequest(ctx, core) : h(ctx, core);

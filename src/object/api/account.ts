import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError } from "../errors.js";
import { accountInfo, updateAccountMeta } from "../store/accounts.js";
import { listContainers } from "../store/containers.js";
import { listingDate } from "../timestamp.js";
import { baseHeaders, empty } from "./common.js";
import { listFormat, listParams, listRows, renderListing } from "./listing.js";
import { applyMeta, checkMeta, metaChanges, metaHeaders } from "./metadata.js";
import { authorize, ownsAccount, param, swiftPath, type Ctx } from "./request.js";
import { OWNER_ONLY_ACCOUNT_META } from "./tempurl.js";
import { checkAccountQuotaChange } from "./account-quotas.js";
import { extractArchive } from "./extract.js";
import { bulkDelete } from "./bulk.js";

async function statHeaders(
  core: ObjectCore,
  account: string,
  owner: boolean,
): Promise<Record<string, string>> {
  const info = await accountInfo(core, account);
  if (!owner) for (const k of OWNER_ONLY_ACCOUNT_META) info.meta.delete(k);
  return {
    "x-account-container-count": String(info.containerCount),
    "x-account-object-count": String(info.objectCount),
    "x-account-bytes-used": String(info.bytesUsed),
    "x-timestamp": info.createdAt,
    "x-put-timestamp": info.putTimestamp,
    "x-account-storage-policy-policy-0-container-count": String(info.containerCount),
    "x-account-storage-policy-policy-0-object-count": String(info.objectCount),
    "x-account-storage-policy-policy-0-bytes-used": String(info.bytesUsed),
    ...metaHeaders(info.meta),
  };
}

/** GET/HEAD an account: its totals and metadata, and (GET) its containers. */
export async function readAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  authorize(ctx, account, "read");
  const stats = await statHeaders(core, account, ownsAccount(ctx, account, "write"));
  if (ctx.method === "HEAD") {
    const type = { plain: "text/plain", json: "application/json", xml: "application/xml" }[listFormat(ctx)];
    return new Reply(204, undefined, {
      ...baseHeaders(`${type}; charset=utf-8`),
      ...stats,
      "content-length": "0",
    });
  }
  const p = listParams(ctx, core.limits.account_listing_limit);
  const rows = await listRows(async (o) => {
    const list = await listContainers(core, account, o);
    return list.map((c) => ({ name: c.name, item: c }));
  }, p);
  const { body, contentType } = renderListing(
    rows,
    p.format,
    { tag: "account", name: account, itemTag: "container" },
    (name, c) => ({
      name,
      count: c.objectCount,
      bytes: c.bytesUsed,
      last_modified: listingDate(c.putTimestamp),
    }),
  );
  const headers = { ...baseHeaders(contentType), ...stats };
  if (body === null) return new Reply(204, undefined, headers);
  return new Reply(200, body, headers);
}

/** POST an account: set or remove its metadata. */
export async function postAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  authorize(ctx, account, "write");
  if (param(ctx, "bulk-delete") !== undefined) return bulkDelete(ctx, core, account);
  checkAccountQuotaChange(ctx);
  const changes = metaChanges(ctx, "account");
  checkMeta(changes, "account", core.limits);
  await updateAccountMeta(core, account, (m) => applyMeta(m, changes, "account", core.limits));
  return empty(204);
}

/** PUT/DELETE an account: Swift answers 405 unless allow_account_management is on (it is not here); DELETE ?bulk-delete is a bulk delete. */
export async function manageAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  authorize(ctx, account, "write");
  if (ctx.method === "DELETE" && param(ctx, "bulk-delete") !== undefined)
    return bulkDelete(ctx, core, account);
  const archive = param(ctx, "extract-archive");
  if (ctx.method === "PUT" && archive !== undefined) return extractArchive(ctx, core, account, archive, "");
  throw swiftError(405, { allow: "GET, HEAD, POST" });
}

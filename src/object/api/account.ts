import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError } from "../errors.js";
import { accountInfo, updateAccountMeta } from "../store/accounts.js";
import { listContainers } from "../store/containers.js";
import { isHidden } from "./object-versioning.js";
import { listingDate } from "../timestamp.js";
import { baseHeaders, empty } from "./common.js";
import { listType, listParams, listRows, renderListing } from "./listing.js";
import { applyMeta, checkMeta, metaChanges, metaHeaders } from "./metadata.js";
import { accountDomainOf, param, swiftPath, type Ctx } from "./request.js";
import {
  ACCOUNT_ACL_HEADER,
  ACCOUNT_ACL_KEY,
  accountAccess,
  accountAclChange,
  accountAclHeader,
  authorizeAccount,
} from "./account-acl.js";
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
  // The account ACL is privileged (Swift's swift_owner_headers): its owners and ACL admins alone see it.
  const acl = owner ? accountAclHeader(info.meta) : undefined;
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
    ...(acl !== undefined ? { [ACCOUNT_ACL_HEADER]: acl } : {}),
  };
}

/** GET/HEAD an account: its totals and metadata, and (GET) its containers. */
export async function readAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  // The answer's type is settled before anything else (Swift's listing_formats runs before auth).
  const type = listType(ctx);
  await authorizeAccount(ctx, core, account, "read");
  const stats = await statHeaders(core, account, (await accountAccess(ctx, core, account)) === "owner");
  if (ctx.method === "HEAD") {
    return new Reply(204, undefined, {
      ...baseHeaders(`${type}; charset=utf-8`),
      ...stats,
      "content-length": "0",
    });
  }
  const p = listParams(ctx, core.limits.account_listing_limit);
  const rows = await listRows(async (o) => {
    const list = await listContainers(core, account, o);
    // Hidden versions containers (object versioning) order the scan but are not listed.
    return list.map((c) => ({ name: c.name, item: isHidden(c.name) ? null : c }));
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

/**
 * POST an account: set or remove its metadata and its ACL (X-Account-Access-Control, "" or `{}` removes it), for
 * its owners (and ACL admins) only; a bulk delete needs only write access (each deletion is a container's).
 */
export async function postAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  if (param(ctx, "bulk-delete") !== undefined) {
    await authorizeAccount(ctx, core, account, "write");
    return bulkDelete(ctx, core, account);
  }
  await authorizeAccount(ctx, core, account, "owner");
  checkAccountQuotaChange(ctx);
  const acl = accountAclChange(ctx);
  const changes = metaChanges(ctx, "account");
  checkMeta(changes, "account", core.limits);
  await updateAccountMeta(
    core,
    account,
    (m) => {
      const next = applyMeta(m, changes, "account", core.limits);
      if (acl === "") next.delete(ACCOUNT_ACL_KEY);
      else if (acl !== undefined) next.set(ACCOUNT_ACL_KEY, acl);
      return next;
    },
    accountDomainOf(ctx, account),
  );
  return empty(204);
}

/**
 * PUT/DELETE an account: Swift answers 405 unless allow_account_management is on (it is not here, so an account's
 * ACL is set by POST); DELETE ?bulk-delete is a bulk delete and PUT ?extract-archive an upload, for writers.
 */
export async function manageAccount(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account } = swiftPath(ctx, core);
  // An extraction authorizes each container and object it writes (Swift's bulk runs before auth).
  const archive = param(ctx, "extract-archive");
  if (ctx.method === "PUT" && archive !== undefined) return extractArchive(ctx, core, account, archive, "");
  await authorizeAccount(ctx, core, account, "write");
  if (ctx.method === "DELETE" && param(ctx, "bulk-delete") !== undefined)
    return bulkDelete(ctx, core, account);
  // Not the account's owners: 403 as before, whatever the method.
  await authorizeAccount(ctx, core, account, "owner");
  throw swiftError(405, { allow: "GET, HEAD, POST" });
}

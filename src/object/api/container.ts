import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import {
  deleteContainer,
  getContainer,
  putContainer,
  updateContainerMeta,
  type Container,
} from "../store/containers.js";
import { expiredIn, removeObject, scanListing } from "../store/objects.js";
import { reclaim } from "./write.js";
import { extractArchive } from "./extract.js";
import { httpDate } from "../timestamp.js";
import { objectRow, XML_OBJECT_FIELDS } from "./listing-fields.js";
import { versioningChanges, versioningHeaders } from "./versioning.js";
import { versionsEnabledHeaders } from "./object-versioning.js";
import { baseHeaders, empty } from "./common.js";
import { listType, listParams, listRows, renderListing } from "./listing.js";
import { applyMeta, checkMeta, metaChanges, metaHeaders } from "./metadata.js";
import { checkQuotaMeta } from "./quotas.js";
import { ACL_HEADERS, aclChanges, authorizeContainer } from "./acl.js";
import { OWNER_ONLY_CONTAINER_META } from "./tempurl.js";
import { accountDomainOf, param, swiftPath, type Ctx } from "./request.js";
import { accountAccess, authorizeAccount } from "./account-acl.js";
import { SYNC_HEADERS, syncChanges } from "./container-sync.js";

function statHeaders(c: Container): Record<string, string> {
  return {
    "x-container-object-count": String(c.objectCount),
    "x-container-bytes-used": String(c.bytesUsed),
    "x-timestamp": c.createdAt,
    "x-put-timestamp": c.putTimestamp,
    "last-modified": httpDate(c.putTimestamp),
    "x-storage-policy": "Policy-0",
    ...metaHeaders(c.meta),
    ...versioningHeaders(c.meta),
    ...versionsEnabledHeaders(c.meta),
  };
}

/** The container a request names (404 when it does not exist). */
async function loadContainer(core: ObjectCore, account: string, name: string): Promise<Container> {
  const c = await getContainer(core, account, name);
  if (!c) throw swiftError(404);
  return c;
}

/** GET/HEAD a container: its counts and metadata, and (GET) its objects. */
export async function readContainer(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container } = swiftPath(ctx, core);
  // The answer's type is settled before anything else (Swift's listing_formats runs before auth).
  const type = listType(ctx);
  await authorizeContainer(ctx, core, account, container as string, "listing");
  const c = await loadContainer(core, account, container as string);
  // Only the account's owners (Swift's swift_owner, account ACL admins too) see the ACLs and Temp-URL keys.
  if ((await accountAccess(ctx, core, account)) !== "owner")
    for (const h of [...ACL_HEADERS, ...OWNER_ONLY_CONTAINER_META, ...SYNC_HEADERS]) c.meta.delete(h);
  if (ctx.method === "HEAD") {
    return new Reply(204, undefined, {
      ...baseHeaders(`${type}; charset=utf-8`),
      ...statHeaders(c),
      "content-length": "0",
    });
  }
  const p = listParams(ctx, core.limits.container_listing_limit);
  const now = Date.now() / 1000;
  const rows = await listRows(async (o) => {
    const objs = await scanListing(core, c.id, o);
    // Expired objects waiting for the reaper are not listed (their names still order the scan).
    return objs.map((x) => ({ name: x.name, item: x.deleteAt !== null && x.deleteAt <= now ? null : x }));
  }, p);
  const { body, contentType } = renderListing(
    rows,
    p.format,
    { tag: "container", name: c.name, itemTag: "object" },
    (name, x) => objectRow(name, x, account),
    XML_OBJECT_FIELDS,
  );
  const headers = { ...baseHeaders(contentType), ...statHeaders(c) };
  if (body === null) return new Reply(204, undefined, headers);
  return new Reply(200, body, headers);
}

/** Whether a header sets or removes one of the container's Temp-URL keys. */
const isKeyHeader = (h: string): boolean => {
  const name = h.replace(/_/g, "-").replace(/^x-remove-/, "x-");
  return (OWNER_ONLY_CONTAINER_META as string[]).includes(name);
};

/**
 * A container PUT/POST's ACL changes, once the caller is known to be allowed its privileged headers (the ACLs and
 * Temp-URL keys, Swift's swift_owner_headers): writers who do not own the account (account ACL read-write
 * grantees) are refused (403) where Swift would drop those headers silently.
 */
async function ownerChanges(ctx: Ctx, core: ObjectCore, account: string): Promise<Map<string, string>> {
  const acl = aclChanges(ctx);
  if (acl.size > 0 || Object.keys(ctx.headers).some(isKeyHeader))
    await authorizeAccount(ctx, core, account, "owner");
  return acl;
}

/** PUT a container: 201 when made, 202 when it existed (its metadata then updated). */
export async function createContainer(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container } = swiftPath(ctx, core);
  const name = container as string;
  // An extraction authorizes each container and object it writes, and takes no container headers.
  const archive = param(ctx, "extract-archive");
  if (archive !== undefined) return extractArchive(ctx, core, account, archive, name);
  await authorizeAccount(ctx, core, account, "write");
  const acl = await ownerChanges(ctx, core, account);
  if (name.includes("/")) throw swiftText(400, "Container names may not contain '/'");
  const changes = metaChanges(ctx, "container");
  checkMeta(changes, "container", core.limits);
  checkQuotaMeta(changes);
  for (const [k, v] of acl) changes.set(k, v);
  for (const [k, v] of versioningChanges(ctx)) changes.set(k, v);
  for (const [k, v] of syncChanges(ctx, core)) changes.set(k, v);
  const made = await putContainer(
    core,
    account,
    name,
    (m) => applyMeta(m, changes, "container", core.limits),
    accountDomainOf(ctx, account),
  );
  return empty(made ? 201 : 202);
}

/** POST a container: set or remove its metadata. */
export async function postContainer(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container } = swiftPath(ctx, core);
  await authorizeAccount(ctx, core, account, "write");
  const acl = await ownerChanges(ctx, core, account);
  const changes = metaChanges(ctx, "container");
  checkMeta(changes, "container", core.limits);
  checkQuotaMeta(changes);
  for (const [k, v] of acl) changes.set(k, v);
  for (const [k, v] of versioningChanges(ctx)) changes.set(k, v);
  for (const [k, v] of syncChanges(ctx, core)) changes.set(k, v);
  const ok = await updateContainerMeta(core, account, container as string, (m) =>
    applyMeta(m, changes, "container", core.limits),
  );
  if (!ok) throw swiftError(404);
  return empty(204);
}

/** DELETE a container: only when it is empty (409 otherwise). */
export async function removeContainer(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const { account, container } = swiftPath(ctx, core);
  await authorizeAccount(ctx, core, account, "write");
  // Expired objects are gone already for clients (Swift's expirer would have removed them): reap them first.
  const c = await getContainer(core, account, container as string);
  if (c)
    for (const x of await expiredIn(core, c.id, Date.now() / 1000, 1000)) {
      const gone = await removeObject(core, c.id, x.name, x.dataKey);
      if (gone) await reclaim(core, gone.dataKey);
    }
  const r = await deleteContainer(core, account, container as string);
  if (r === "missing") throw swiftError(404);
  if (r === "not-empty") throw swiftError(409);
  return empty(204);
}

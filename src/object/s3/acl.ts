// S3 ACLs as Swift's s3api keeps them without its own ACL store: a bucket's ACL is its container's read and write
// ACLs (canned public-read is ".r:*,.rlistings", authenticated-read and the write grants "*:*"), set by x-amz-acl or
// an AccessControlPolicy document and shown back as grants; objects (each of their versions) have their bucket's ACL
// (Swift has no object ACLs).
import { reply, type Reply } from "../../shared/http/reply.js";
import type { Ctx } from "../api/request.js";
import { owner, xmlReply } from "./bucket.js";
import { s3Error } from "./errors.js";
import { readSmallBody, s3Header, s3Query } from "./request.js";
import { versionError, versionQuery } from "./versioning.js";
import { fromSwift, h, type SwiftClient } from "./swift.js";
import { elements, hasRoot, text, type XmlNode } from "./xml.js";

/** A bucket's access as its container ACLs say it. */
export interface BucketAccess {
  /** X-Container-Read ("" for none). */
  read: string;
  /** X-Container-Write ("" for none). */
  write: string;
}

const PUBLIC_READ = ".r:*,.rlistings";
const ANY_USER = "*:*";
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/** The canned ACLs and the container ACLs they stand for. */
const CANNED: ReadonlyMap<string, BucketAccess> = new Map([
  ["private", { read: "", write: "" }],
  ["public-read", { read: PUBLIC_READ, write: "" }],
  ["public-read-write", { read: PUBLIC_READ, write: ANY_USER }],
  ["authenticated-read", { read: ANY_USER, write: "" }],
]);

/** Canned ACLs about the object's owner and the bucket's: the same as private when both are the project. */
const OWNER_ONLY = new Set(["bucket-owner-read", "bucket-owner-full-control", "aws-exec-read"]);

/** The access an x-amz-acl header asks for (undefined without one); x-amz-grant-* headers are not supported. */
export function cannedAccess(ctx: Ctx, forObject: boolean): BucketAccess | undefined {
  if (Object.keys(ctx.headers).some((k) => k.startsWith("x-amz-grant-")))
    throw s3Error("NotImplemented", {}, "x-amz-grant-* headers are not supported: use a canned ACL.");
  const name = s3Header(ctx, "x-amz-acl");
  if (name === undefined) return undefined;
  const access = CANNED.get(name) ?? (forObject && OWNER_ONLY.has(name) ? CANNED.get("private") : undefined);
  if (!access)
    throw s3Error("InvalidArgument", { ArgumentName: "x-amz-acl", ArgumentValue: name.slice(0, 64) });
  return access;
}

/** The container headers that set a bucket's access (an empty ACL removed). */
export function accessHeaders(a: BucketAccess): Record<string, string> {
  return {
    ...(a.read ? { "x-container-read": a.read } : { "x-remove-container-read": "1" }),
    ...(a.write ? { "x-container-write": a.write } : { "x-remove-container-write": "1" }),
  };
}

/** The access an AccessControlPolicy document grants (AllUsers and AuthenticatedUsers READ/WRITE, the owner's). */
function policyAccess(xml: string, sw: SwiftClient): BucketAccess {
  if (!hasRoot(xml, "AccessControlPolicy")) throw s3Error("MalformedACLError");
  let read = "";
  let write = "";
  for (const g of elements(xml, "Grant")) {
    const permission = text(g, "Permission");
    const uri = text(g, "URI");
    const id = text(g, "ID");
    if (id !== undefined && id === sw.caller.projectId) continue;
    if (uri === ALL_USERS && permission === "READ") read = PUBLIC_READ;
    else if (uri === AUTHENTICATED_USERS && permission === "READ") read ||= ANY_USER;
    else if ((uri === ALL_USERS || uri === AUTHENTICATED_USERS) && permission === "WRITE") write = ANY_USER;
    else
      throw s3Error(
        "NotImplemented",
        {},
        "Only READ and WRITE grants to AllUsers or AuthenticatedUsers are supported.",
      );
  }
  return { read, write };
}

/** A bucket's access (its container's ACLs), or the S3 error of its HEAD. */
export async function bucketAccess(sw: SwiftClient, bucket: string): Promise<BucketAccess> {
  const r = await sw.call("HEAD", bucket);
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return { read: h(r, "x-container-read") ?? "", write: h(r, "x-container-write") ?? "" };
}

/** Objects take their bucket's ACL: an ACL asked for an object must grant what its bucket's does (else NotImplemented). */
export async function checkObjectAcl(
  sw: SwiftClient,
  bucket: string,
  asked: BucketAccess | undefined,
): Promise<void> {
  if (asked === undefined) return;
  const shown = (a: BucketAccess) => JSON.stringify(grants(sw, a));
  if (shown(asked) !== shown(await bucketAccess(sw, bucket)))
    throw s3Error("NotImplemented", {}, "Objects have their bucket's ACL here: set the ACL on the bucket.");
}

/** The grants a bucket's access shows: the owner's full control, then the public ones. */
function grants(sw: SwiftClient, a: BucketAccess): XmlNode[] {
  const group = (uri: string, permission: string): XmlNode => ({
    Grantee: { URI: uri },
    Permission: permission,
  });
  const out: XmlNode[] = [
    {
      Grantee: { ID: sw.caller.projectId, DisplayName: sw.caller.projectId },
      Permission: "FULL_CONTROL",
    },
  ];
  const reads = a.read.split(",").map((s) => s.trim());
  const writes = a.write.split(",").map((s) => s.trim());
  const publicRead = reads.includes(".r:*");
  if (publicRead) out.push(group(ALL_USERS, "READ"));
  else if (reads.includes(ANY_USER)) out.push(group(AUTHENTICATED_USERS, "READ"));
  if (writes.includes(ANY_USER)) out.push(group(publicRead ? ALL_USERS : AUTHENTICATED_USERS, "WRITE"));
  return out;
}

/** The AccessControlPolicy document of an access, with the grantee types S3 clients expect. */
function policyReply(sw: SwiftClient, a: BucketAccess): Reply {
  const r = xmlReply("AccessControlPolicy", {
    Owner: owner(sw),
    AccessControlList: { Grant: grants(sw, a) },
  });
  const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
  const body = String(r.body)
    .replace(/<Grantee><ID>/g, `<Grantee ${xsi} xsi:type="CanonicalUser"><ID>`)
    .replace(/<Grantee><URI>/g, `<Grantee ${xsi} xsi:type="Group"><URI>`);
  return reply(r.status, body, r.headers);
}

/** The access a PUT ?acl asks for: its x-amz-acl header or its AccessControlPolicy document (not both). */
async function askedAccess(ctx: Ctx, sw: SwiftClient, forObject: boolean): Promise<BucketAccess> {
  const body = (await readSmallBody(ctx, 64 * 1024)).toString("utf8");
  const canned = cannedAccess(ctx, forObject);
  if (canned !== undefined && body.trim() !== "")
    throw s3Error("UnexpectedContent", {}, "This request does not support content with an x-amz-acl header.");
  return canned ?? policyAccess(body, sw);
}

/**
 * GET/PUT /bucket?acl and /bucket/key?acl; with versionId, that version's ACL — its bucket's, as every object's here,
 * once the version exists.
 */
export async function aclRequest(ctx: Ctx, sw: SwiftClient, bucket: string, key?: string): Promise<Reply> {
  if (key !== undefined) {
    const id = s3Query(ctx).get("versionId");
    const o = await sw.call("HEAD", bucket, key, { query: versionQuery(id) });
    if (o.status !== 200 && id !== undefined) throw await versionError(sw, o, { bucket, key, id });
    if (o.status === 404) {
      await bucketAccess(sw, bucket);
      throw s3Error("NoSuchKey", { Key: key });
    }
    if (o.status !== 200) throw fromSwift(o, "key", { Key: key });
    if (ctx.method !== "PUT") return policyReply(sw, await bucketAccess(sw, bucket));
    await checkObjectAcl(sw, bucket, await askedAccess(ctx, sw, true));
    return reply(200, "");
  }
  if (ctx.method !== "PUT") return policyReply(sw, await bucketAccess(sw, bucket));
  const access = await askedAccess(ctx, sw, false);
  const r = await sw.call("POST", bucket, undefined, { headers: accessHeaders(access) });
  if (r.status !== 204 && r.status !== 200) throw fromSwift(r, "bucket", { BucketName: bucket });
  return reply(200, "");
}

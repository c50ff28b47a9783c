// An object's row in a JSON container listing, with the fields Swift 2.30's middlewares add for special objects:
// an SLO manifest lists with its total size, its own (manifest) MD5 as hash and the SLO's ETag as slo_etag (and a
// manifest the S3 API completed its s3_etag); a symlink with symlink_path (a static link also symlink_etag and
// symlink_bytes, and a static link to an SLO that SLO's slo_etag and s3_etag). XML rows carry only the base fields.
import { listingDate } from "../timestamp.js";
import { SLO_ETAG, SLO_FLAG, splitSwiftBytes } from "./slo.js";
import { symlinkListing } from "./symlink.js";

/** What a listing row is made of: an object's columns, and its metadata when it may be an SLO or a link. */
export interface Listable {
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  /** null for rows that are neither (the scan reads no metadata for them). */
  meta: Map<string, string> | null;
}

/** The fields of an XML object row (Swift's container_to_xml writes no others). */
export const XML_OBJECT_FIELDS = ["name", "hash", "bytes", "content_type", "last_modified"];

/** An object's JSON listing row as Swift 2.30 shows it; `account` is the listed container's (for symlink_path). */
export function objectRow(name: string, o: Listable, account: string): Record<string, string | number> {
  const ct = splitSwiftBytes(o.contentType);
  const row: Record<string, string | number> = {
    name,
    hash: o.etag,
    bytes: ct.bytes ?? o.size,
    content_type: ct.contentType,
    last_modified: listingDate(o.timestamp),
  };
  if (o.meta === null) return ct.s3Etag !== undefined ? { ...row, s3_etag: `"${ct.s3Etag}"` } : row;
  Object.assign(row, symlinkListing(o.meta, account));
  const sloEtag = o.meta.get(SLO_FLAG) === "True" ? o.meta.get(SLO_ETAG) : undefined;
  if (sloEtag) row.slo_etag = `"${sloEtag}"`;
  if (ct.s3Etag !== undefined) row.s3_etag = `"${ct.s3Etag}"`;
  return row;
}

// An SLO manifest arriving by container sync (Swift's container_sync middleware sets swift.slo_override): it comes
// in the stored form (GET ?multipart-manifest=get at the origin), with X-Static-Large-Object, and is stored as it
// is without looking at its segments, which may not have been synced yet. Its SLO size and ETag (sysmeta, which a
// sync does not carry) are worked out from the entries, as stored manifests' are.
import { createHash } from "node:crypto";
import { swiftText } from "../errors.js";
import { SLO_ETAG, SLO_FLAG, SLO_INFO, SLO_SIZE } from "./slo.js";
import type { Ctx } from "./request.js";

/** A synced manifest to store: its body as sent, the SLO's size and ETag, and the SLO metadata. */
export interface SyncedManifest {
  body: Buffer;
  size: number;
  sloEtag: string;
  meta: Map<string, string>;
}

/** A stored manifest is at most this big (its entries are longer than the manifest PUT's). */
const MAX_BODY = SLO_INFO.max_manifest_size * 2;

const INVALID = "Manifest must be valid JSON.\n";

/** Read and check a synced manifest's body; 400 when it is not a stored manifest, 413 when too big. */
export async function syncedManifest(ctx: Ctx): Promise<SyncedManifest> {
  const chunks: Buffer[] = [];
  let n = 0;
  const body = ctx.body as AsyncIterable<Uint8Array> | undefined;
  if (body)
    for await (const c of body) {
      n += c.length;
      if (n > MAX_BODY) throw swiftText(413, `Manifest File > ${MAX_BODY} bytes`);
      chunks.push(Buffer.from(c));
    }
  const raw = Buffer.concat(chunks);
  let entries: unknown;
  try {
    entries = JSON.parse(raw.toString("utf8"));
  } catch {
    throw swiftText(400, INVALID);
  }
  if (!Array.isArray(entries) || entries.length > SLO_INFO.max_manifest_segments * 2)
    throw swiftText(400, INVALID);
  const etag = createHash("md5");
  let size = 0;
  for (const e of entries) {
    const part = entryPart(e);
    if (part === null) throw swiftText(400, INVALID);
    etag.update(part.etag);
    size += part.bytes;
  }
  const sloEtag = etag.digest("hex");
  const meta = new Map([
    [SLO_FLAG, "True"],
    [SLO_ETAG, sloEtag],
    [SLO_SIZE, String(size)],
  ]);
  return { body: raw, size, sloEtag, meta };
}

/** One stored entry's share of the SLO's ETag and size (as slo-put.ts computes them), or null when malformed. */
function entryPart(e: unknown): { etag: string; bytes: number } | null {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return null;
  const { data, name, bytes, hash, range } = e as Record<string, unknown>;
  if (data !== undefined) {
    if (typeof data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return null;
    const b = Buffer.from(data, "base64");
    return { etag: createHash("md5").update(b).digest("hex"), bytes: b.length };
  }
  if (typeof name !== "string" || !name.startsWith("/") || typeof hash !== "string") return null;
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) return null;
  if (range === undefined) return { etag: hash, bytes };
  const m = typeof range === "string" ? /^(\d{1,16})-(\d{1,16})$/.exec(range) : null;
  if (!m || Number(m[2]) < Number(m[1])) return null;
  return { etag: `${hash}:${range as string};`, bytes: Number(m[2]) - Number(m[1]) + 1 };
}

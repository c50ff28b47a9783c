// DELETE ?multipart-manifest=delete: delete an SLO's segments (sub-SLOs' segments first, then the sub-manifests),
// then the manifest, answering with a bulk-delete summary as Swift does.
import { Reply } from "../../shared/http/reply.js";
import { STATUS_TITLES } from "../../shared/http/errors.js";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftText } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { removeObject } from "../store/objects.js";
import { authorizeContainer } from "./acl.js";
import { bulkBody, bulkFormat } from "./bulk.js";
import { reclaim } from "./write.js";
import type { Ctx } from "./request.js";
import { isSlo, quotePath, readManifest, segmentLookup, SLO_INFO, splitSegmentName } from "./slo.js";

/** A queued deletion: an object, or a manifest whose segments are queued first. */
interface Job {
  name: string;
  subSlo: boolean;
  error?: { code: number; message: string };
}

const title = (status: number): string => `${status} ${STATUS_TITLES[status] ?? "Error"}`;

/** Delete an SLO manifest and its segments in `account`; 200 with Swift's bulk summary. */
export async function deleteSlo(ctx: Ctx, core: ObjectCore, account: string, path: string): Promise<Reply> {
  const format = bulkFormat(ctx);
  const lookup = segmentLookup(ctx, core, account);
  const queue: Job[] = [{ name: path, subSlo: true }];
  let deleted = 0;
  let notFound = 0;
  const errors: Array<[string, string]> = [];
  while (queue.length) {
    // Bounds memory whatever the nesting (Swift's limit).
    if (queue.length > SLO_INFO.max_manifest_segments * 10)
      throw swiftText(400, "Too many buffered slo segments to delete.");
    const job = queue.shift() as Job;
    const at = splitSegmentName(job.name);
    if (!at) {
      errors.push([quotePath(job.name), "400 Bad Request"]);
      continue;
    }
    if (job.subSlo) {
      try {
        const m = await lookup(at.container, at.object);
        if (!isSlo(m)) throw new SwiftError(400, "Not an SLO manifest");
        for (const e of await readManifest(core, m))
          if (e.data === undefined && typeof e.name === "string")
            queue.push({ name: e.name, subSlo: e.sub_slo === true });
      } catch (e) {
        if (!(e instanceof SwiftError)) throw e;
        const message =
          e.status === 404 ? "SLO manifest not found" : e.extra.type === "text" ? e.message : title(e.status);
        job.error = { code: e.status, message };
      }
      // The manifest itself goes after its segments.
      queue.push({ ...job, subSlo: false });
      continue;
    }
    if (job.error) {
      if (job.error.code === 404) notFound++;
      else errors.push([quotePath(job.name), job.error.message]);
      continue;
    }
    try {
      await authorizeContainer(ctx, core, account, at.container, "write");
    } catch (e) {
      if (!(e instanceof SwiftError)) throw e;
      errors.push([quotePath(job.name), title(e.status)]);
      continue;
    }
    const c = await getContainer(core, account, at.container);
    const gone = c ? await removeObject(core, c.id, at.object) : undefined;
    if (!gone) {
      notFound++;
      continue;
    }
    await reclaim(core, gone.dataKey);
    deleted++;
  }
  const summary = {
    "Number Deleted": deleted,
    "Number Not Found": notFound,
    "Response Body": "",
    "Response Status": errors.length ? "400 Bad Request" : "200 OK",
  };
  const out = bulkBody(format, summary, errors, "delete");
  return new Reply(200, out.body, { "content-type": out.contentType });
}

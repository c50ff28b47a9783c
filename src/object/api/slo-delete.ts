// DELETE ?multipart-manifest=delete: delete an SLO's segments (sub-SLOs' segments first, then the sub-manifests),
// then the manifest. As Swift (whose slo middleware hands the work to the bulk middleware's handle_delete_iter), the
// answer is 200 at once with a streamed bulk-delete summary: fillers while it runs (object.slo.yieldFrequency),
// what goes wrong during the work (too many buffered segments, a failure reading a manifest) in the summary.
// Deletions run object.slo.concurrency at once (Swift's slo hands its concurrency to the bulk deleter).
import type { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import type { StoredObject } from "../store/objects.js";
import { SwiftError, swiftText } from "../errors.js";
import { authorizeContainer } from "./acl.js";
import { deleteInto, streamDelete } from "./bulk.js";
import { inFlight } from "../../shared/in-flight.js";
import { statusLine } from "./keepalive.js";
import type { Ctx } from "./request.js";
import { isSlo, quotePath, readManifest, segmentLookup, SLO_INFO, splitSegmentName } from "./slo.js";

/** A queued deletion: an object, or a manifest whose segments are queued first. */
interface Job {
  name: string;
  subSlo: boolean;
  error?: { code: number; message: string };
}

/** How a manifest that cannot be read is listed, as Swift's get_slo_segments words it (any refusal but 401, such
 *  as a 403, is its 500 "Unable to load SLO manifest or segment."). */
function manifestError(e: SwiftError): { code: number; message: string } {
  if (e.status === 404) return { code: 404, message: "SLO manifest not found" };
  if (e.status === 401) return { code: 401, message: statusLine(401) };
  if (e.status === 400 && e.message === NOT_SLO) return { code: 400, message: NOT_SLO };
  return { code: 500, message: "Unable to load SLO manifest or segment." };
}
const NOT_SLO = "Not an SLO manifest";

/**
 * The deletions of a manifest's SLO delete, in Swift's order (get_segments_to_delete_iter): segments in manifest
 * order, a sub-manifest's read when reached (`beat` first) and queued after them, each manifest after its segments;
 * one that cannot be read carries its error. Throws "Too many buffered slo segments to delete." past Swift's bound.
 */
async function* deletions(
  core: ObjectCore,
  lookup: (container: string, object: string) => Promise<StoredObject>,
  top: string,
  beat: (name: string) => Promise<void>,
): AsyncGenerator<Job> {
  const queue: Job[] = [{ name: top, subSlo: true }];
  while (queue.length) {
    // Bounds memory whatever the nesting (Swift's limit).
    if (queue.length > SLO_INFO.max_manifest_segments * 10)
      throw swiftText(400, "Too many buffered slo segments to delete.");
    const job = queue.shift() as Job;
    const at = job.subSlo ? splitSegmentName(job.name) : null;
    // A deletion (or a sub-manifest whose name is no path, which the worker lists as 400).
    if (!at) {
      yield job;
      continue;
    }
    await beat(job.name);
    try {
      const m = await lookup(at.container, at.object);
      if (!isSlo(m)) throw new SwiftError(400, NOT_SLO);
      for (const e of await readManifest(core, m))
        if (e.data === undefined && typeof e.name === "string")
          queue.push({ name: e.name, subSlo: e.sub_slo === true });
    } catch (e) {
      if (!(e instanceof SwiftError)) throw e;
      job.error = manifestError(e);
    }
    // The manifest itself goes after its segments.
    queue.push({ ...job, subSlo: false });
  }
}

/**
 * Delete the SLO manifest `/<container>/<object>` and its segments in `account`, `object.slo.concurrency` deletions
 * at once (so the order of the summary's Errors may differ from the manifest's); 200 with Swift's bulk summary,
 * streamed. The caller must be allowed to delete the manifest (keystoneauth refuses before SLO answers anything).
 */
export async function deleteSlo(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  container: string,
  object: string,
): Promise<Reply> {
  await authorizeContainer(ctx, core, account, container, "write");
  const lookup = segmentLookup(ctx, core, account);
  const { yieldFrequency, concurrency } = core.cfg.object.slo;
  return streamDelete(ctx, core.log, yieldFrequency, async (tally, beat) => {
    const { errors } = tally;
    const jobs = deletions(core, lookup, `/${container}/${object}`, beat);
    // The generator's next() calls queue up, so each worker takes the next deletion in order.
    const next = async () => (await jobs.next()).value ?? undefined;
    await inFlight(concurrency, next, async (job) => {
      await beat(job.name);
      const at = splitSegmentName(job.name);
      if (!at) {
        errors.push([quotePath(job.name), "400 Bad Request"]);
        return;
      }
      if (job.error) {
        if (job.error.code === 404) tally.notFound++;
        else errors.push([quotePath(job.name), job.error.message]);
        return;
      }
      try {
        await authorizeContainer(ctx, core, account, at.container, "write");
      } catch (e) {
        if (!(e instanceof SwiftError)) throw e;
        errors.push([quotePath(job.name), statusLine(e.status)]);
        return;
      }
      await deleteInto(tally, core, account, at.container, at.object);
    });
  });
}

// DELETE ?multipart-manifest=delete&async=on (when object.slo.allowAsyncDelete): Swift queues the segments for
// its object expirer and deletes only the manifest now. Here the segments' current versions are made to expire
// at once, so the reaper (the expirer's part, `reaper.ts`) removes them on its next pass; the manifest's DELETE
// then goes on as a plain one. Only for an SLO whose object segments all sit in one container, none an SLO.
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftText } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { expireObjects } from "../store/objects.js";
import { newTimestamp } from "../timestamp.js";
import { authorizeContainer } from "./acl.js";
import { param, type Ctx } from "./request.js";
import { isSlo, quotePath, readManifest, segmentLookup, splitSegmentName } from "./slo.js";

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);

/** Whether a multipart-manifest=delete is to be asynchronous (asked for, and allowed by the configuration). */
export const asyncDeleteOn = (ctx: Ctx, core: ObjectCore): boolean =>
  core.cfg.object.slo.allowAsyncDelete && TRUE.has((param(ctx, "async") ?? "").toLowerCase());

/**
 * Check the manifest and hand its segments to the reaper; throws Swift's refusals. The caller then deletes the
 * manifest as a plain DELETE.
 */
export async function expireSegments(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  container: string,
  object: string,
): Promise<void> {
  // Write rights first: the manifest is read next, and a reader must not learn more than a refusal.
  await authorizeContainer(ctx, core, account, container, "write");
  let manifest;
  try {
    manifest = await segmentLookup(ctx, core, account)(container, object);
  } catch (e) {
    if (e instanceof SwiftError && e.status === 404) throw swiftText(404, "SLO manifest not found");
    throw e;
  }
  if (!isSlo(manifest)) throw swiftText(400, "Not an SLO manifest");
  const names = (await readManifest(core, manifest)).flatMap((e) =>
    e.data === undefined && typeof e.name === "string" ? [e] : [],
  );
  // Only inline data: nothing to expire, the manifest goes alone.
  if (!names.length) return;
  const containers = new Set<string>();
  const objects: string[] = [];
  for (const e of names) {
    const at = splitSegmentName(e.name as string);
    if (!at) throw swiftText(400, "Not an SLO manifest");
    containers.add(at.container);
    objects.push(at.object);
  }
  if (containers.size > 1)
    throw swiftText(
      400,
      `All segments must be in one container. Found segments in ${[...containers]
        .map((c) => `"${quotePath(c)}"`)
        .join(", ")}`,
    );
  if (names.some((e) => e.sub_slo === true)) throw swiftText(400, "No segments may be large objects.");
  const [segContainer] = containers;
  if (segContainer !== container) await authorizeContainer(ctx, core, account, segContainer, "write");
  const c = await getContainer(core, account, segContainer);
  if (c) await expireObjects(core, c.id, objects, newTimestamp(), Math.floor(Date.now() / 1000));
}

// Interoperable image import: glance-direct (from the staging area) and web-download (from an allowed URL),
// run in the background after POST /v2/images/{id}/import answered 202, through the same inspected store path
// as uploads.
import type { Readable } from "node:stream";
import { request } from "undici";
import type { ImageCore } from "./core.js";
import { dataColumns, deleteStagedData, ingest, stagedLocation, stagingStore } from "./data.js";
import { changeStatus, findImage, setProperties, type Image } from "./store/images.js";
import { updateTask } from "./store/tasks.js";

/** Import methods this cloud offers (web-download only when configured). */
export function enabledImportMethods(core: ImageCore): string[] {
  return core.cfg.image.webDownload.enabled ? ["glance-direct", "web-download"] : ["glance-direct"];
}

/**
 * Why a web-download URL may not be fetched, or null if it may: only http(s), only hosts listed in
 * image.webDownload.allowedHosts (an entry is "host", any port, or "host:port").
 */
export function uriProblem(core: ImageCore, uri: unknown): string | null {
  if (typeof uri !== "string" || uri === "") return "no URI given";
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return "not a valid URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return `scheme ${u.protocol.slice(0, -1)} is not allowed`;
  if (u.username || u.password) return "credentials in the URL are not allowed";
  const host = u.hostname.toLowerCase();
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const ok = core.cfg.image.webDownload.allowedHosts.some((entry) => {
    const e = entry.toLowerCase();
    return e === host || e === `${host}:${port}`;
  });
  return ok ? null : `host ${host} is not allowed`;
}

/** A failed import, with the reason recorded on its task. */
class ImportFailure extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Open an allowed URL, following redirects by hand so that every hop must be an allowed host too. */
async function openUrl(core: ImageCore, uri: string): Promise<Readable> {
  const cfg = core.cfg.image.webDownload;
  let url = uri;
  for (let hop = 0; ; hop++) {
    const problem = uriProblem(core, url);
    if (problem) throw new ImportFailure(`URI for web-download does not pass filtering: ${url} (${problem})`);
    const res = await request(url, {
      method: "GET",
      headersTimeout: cfg.timeout * 1000,
      bodyTimeout: cfg.timeout * 1000,
      headers: { "user-agent": "stratus-image-import" },
    });
    // Drain (a little of) what is not used; an error here does not matter.
    const discard = () => res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    if (REDIRECTS.has(res.statusCode)) {
      await discard();
      const loc = res.headers.location;
      const target = Array.isArray(loc) ? loc[0] : loc;
      if (!target) throw new ImportFailure(`${url} answered ${res.statusCode} without a Location`);
      if (hop >= cfg.maxRedirects) throw new ImportFailure(`too many redirects fetching ${uri}`);
      url = new URL(target, url).href;
      continue;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await discard();
      throw new ImportFailure(`${url} answered HTTP ${res.statusCode}`);
    }
    return res.body;
  }
}

const running = new WeakMap<ImageCore, Set<Promise<void>>>();

/** Resolves when every import running now has finished (for shutdown and tests). */
export async function importsSettled(core: ImageCore): Promise<void> {
  const set = running.get(core);
  if (set) await Promise.allSettled([...set]);
}

/** What an accepted import does in the background. */
export interface ImportJob {
  image: Image;
  method: "glance-direct" | "web-download";
  uri?: string;
  taskId: string;
  maxBytes: number;
}

async function runImport(core: ImageCore, job: ImportJob): Promise<void> {
  const { image, taskId } = job;
  const store = core.defaultStore;
  await updateTask(core, taskId, "processing");
  try {
    const source =
      job.method === "glance-direct"
        ? stagingStore(core).get(stagedLocation(core, image.id))
        : await openUrl(core, job.uri ?? "");
    const data = await ingest(core, image, source, store, job.maxBytes);
    // Finish everything a client may look at once the image is active before making it active (no race).
    if (job.method === "glance-direct") await deleteStagedData(core, image.id);
    await setProperties(core, image.id, {
      os_glance_import_task: null,
      os_glance_importing_to_stores: "",
      os_glance_failed_import: "",
    });
    await updateTask(core, taskId, "success", { result: { image_id: image.id } });
    if (!(await changeStatus(core, image.id, "importing", "active", dataColumns(store, data)))) {
      await store.delete(data.stored.location);
      throw new ImportFailure(`image ${image.id} was deleted during the import`);
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    core.log.warn({ image: image.id, method: job.method, err: message }, "image import failed");
    if (job.method === "glance-direct") await deleteStagedData(core, image.id).catch(() => {});
    if (await changeStatus(core, image.id, "importing", "queued").catch(() => false))
      await setProperties(core, image.id, {
        os_glance_import_task: null,
        os_glance_importing_to_stores: "",
        os_glance_failed_import: store.id,
      }).catch(() => {});
    await updateTask(core, taskId, "failure", { message }).catch(() => {});
  }
}

/** Start an accepted import in the background. */
export function launchImport(core: ImageCore, job: ImportJob): void {
  let set = running.get(core);
  if (!set) running.set(core, (set = new Set()));
  const p: Promise<void> = runImport(core, job)
    .catch((e: unknown) => core.log.error({ err: e, image: job.image.id }, "image import crashed"))
    .finally(() => set.delete(p));
  set.add(p);
}

/**
 * After a restart nothing is running: images stuck saving or importing go back to queued (Glance's recovery),
 * staged images without staged data too, and their tasks fail.
 */
export async function recoverInterrupted(core: ImageCore, images: Image[]): Promise<void> {
  for (const img of images) {
    if (img.status === "saving") await changeStatus(core, img.id, "saving", "queued");
    else if (img.status === "importing") {
      await deleteStagedData(core, img.id);
      if (await changeStatus(core, img.id, "importing", "queued"))
        await setProperties(core, img.id, {
          os_glance_import_task: null,
          os_glance_importing_to_stores: "",
          os_glance_failed_import: core.defaultStore.id,
        });
    } else if (img.status === "uploading") {
      const still = await findImage(core, img.id);
      if (still && still.size === null) {
        await deleteStagedData(core, img.id);
        await changeStatus(core, img.id, "uploading", "queued");
      }
    }
  }
}

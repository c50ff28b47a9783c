// Moving image bytes: uploads and staged data go through one path that streams into a store (never buffering the
// image), hashes it, and inspects it as it passes, so that unsafe data or data of another format than declared
// is refused and removed before the image becomes active.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { ApiError } from "../shared/http/errors.js";
import type { ImageCore } from "./core.js";
import { FileStore } from "./drivers/file.js";
import { StoreTooLarge, type ImageStore, type StoredData } from "./drivers/store.js";
import { StoreUnavailable } from "./drivers/swift.js";
import { checkDeclaredFormat, createInspector } from "./inspector/index.js";
import { admitUpload, commitData } from "./quotas.js";
import { changeStatus, findImage, type Image } from "./store/images.js";

const stagingStores = new WeakMap<ImageCore, FileStore>();

/** The store holding glance-direct staging data (DATA_DIR/image-staging), one file per image. */
export function stagingStore(core: ImageCore): FileStore {
  let s = stagingStores.get(core);
  if (!s) stagingStores.set(core, (s = new FileStore(core.stagingDir)));
  return s;
}

/** Where an image's staged data is, if it has been staged. */
export const stagedLocation = (core: ImageCore, id: string): string =>
  pathToFileURL(join(core.stagingDir, id)).href;

/** Remove an image's staged data, if any. */
export async function deleteStagedData(core: ImageCore, id: string): Promise<void> {
  if (!/^[A-Za-z0-9-]+$/.test(id)) return;
  await stagingStore(core).delete(stagedLocation(core, id));
}

/** What writing an image's data produced. */
export interface Ingested {
  stored: StoredData;
  virtualSize: number | null;
}

/** A 413 for data over `maxBytes`: the storage quota if it was the lower bound, else the size cap. */
function tooLarge(core: ImageCore, maxBytes: number): ApiError {
  return maxBytes < core.cfg.image.maxImageSize
    ? new ApiError(
        413,
        `Denying attempt to upload image because it exceeds the quota: the image data may have at most ${maxBytes} more bytes.`,
      )
    : new ApiError(413, `The incoming image is too large: the limit is ${maxBytes} bytes.`);
}

/** Turn a failure while writing data into the ApiError Glance would answer. */
export function dataError(core: ImageCore, e: unknown, maxBytes: number): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof StoreTooLarge) return tooLarge(core, maxBytes);
  if (e instanceof StoreUnavailable)
    return new ApiError(503, `${e.message} Try again once the cloud has finished starting.`);
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ENOSPC" || err?.code === "EDQUOT")
    return new ApiError(413, "Image storage media is full: no space left on the image store.");
  if (err?.code === "ECONNRESET" || err?.code === "ERR_STREAM_PREMATURE_CLOSE" || err?.message === "aborted")
    return new ApiError(
      400,
      "The image data ended early: the client closed the connection before sending all of it.",
    );
  core.log.error({ err: e }, "image data could not be stored");
  return new ApiError(
    500,
    "The server has either erred or is incapable of performing the requested operation.",
  );
}

/**
 * Stream `source` into `store` under the image's id, inspecting it on the way. Refuses (400) data that is unsafe
 * or not of the image's declared disk_format, and then removes what was written. Nothing is left behind on any
 * failure: the store removes partial data itself.
 */
export async function ingest(
  core: ImageCore,
  img: Image,
  source: Readable,
  store: ImageStore,
  maxBytes: number,
): Promise<Ingested> {
  const inspector = createInspector();
  const stored = await store.put(img.id, source, { maxBytes, onChunk: (chunk) => inspector.write(chunk) });
  try {
    const result = inspector.finish();
    const problem = checkDeclaredFormat(img.disk_format ?? "", result);
    if (problem)
      throw new ApiError(
        400,
        `Image data is not acceptable for disk_format '${img.disk_format}': ${problem}.`,
      );
    return { stored, virtualSize: result.virtualSize };
  } catch (e) {
    await store.delete(stored.location);
    throw e;
  }
}

/** The columns an active image gets from its stored data. */
export function dataColumns(store: ImageStore, d: Ingested) {
  return {
    size: d.stored.size,
    virtual_size: d.virtualSize,
    checksum: d.stored.md5,
    os_hash_algo: "sha512",
    os_hash_value: d.stored.sha512,
    location: d.stored.location,
    store: store.id,
  };
}

function requireFormats(img: Image): void {
  const missing = (["disk_format", "container_format"] as const).filter((k) => !img[k]);
  if (missing.length === 1)
    throw new ApiError(400, `Property ${missing[0]} must be set prior to saving data.`);
  if (missing.length)
    throw new ApiError(400, `Properties ${missing.join(", ")} must be set prior to saving data.`);
}

/** A 409 for an image whose status does not allow the transition (Glance's InvalidImageStatusTransition). */
async function transitionConflict(core: ImageCore, id: string, to: string): Promise<ApiError> {
  const now = await findImage(core, id);
  if (!now) return new ApiError(404, `No image found with ID ${id}`);
  return new ApiError(409, `Image status transition from ${now.status} to ${to} is not allowed`);
}

/** Refuse bodies declared larger than allowed before reading any of them. */
function checkDeclaredLength(core: ImageCore, length: number | undefined, maxBytes: number): void {
  if (length !== undefined && length > maxBytes) throw tooLarge(core, maxBytes);
}

/**
 * PUT /v2/images/{id}/file: queued → saving → active. On any failure (bad data, too large, client gone) the image
 * goes back to queued with no data, as Glance v2 does, and the error is returned.
 */
export async function uploadData(
  core: ImageCore,
  img: Image,
  source: Readable,
  length?: number,
): Promise<void> {
  if (img.status !== "queued") throw await transitionConflict(core, img.id, "saving");
  requireFormats(img);
  const maxBytes = await admitUpload(core, img.owner, {
    startsUpload: true,
    start: async (c, max) => {
      checkDeclaredLength(c, length, max);
      if (!(await changeStatus(c, img.id, "queued", "saving")))
        throw await transitionConflict(c, img.id, "saving");
    },
  });
  const store = core.defaultStore;
  let data: Ingested;
  let saved: boolean;
  try {
    data = await ingest(core, img, source, store, maxBytes);
  } catch (e) {
    await changeStatus(core, img.id, "saving", "queued");
    throw dataError(core, e, maxBytes);
  }
  try {
    saved = await commitData(core, img.owner, data.stored.size, {}, (c) =>
      changeStatus(c, img.id, "saving", "active", dataColumns(store, data)),
    );
  } catch (e) {
    await store.delete(data.stored.location);
    await changeStatus(core, img.id, "saving", "queued");
    throw e;
  }
  if (!saved) {
    await store.delete(data.stored.location);
    throw new ApiError(
      410,
      `Image ${img.id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`,
    );
  }
}

/** PUT /v2/images/{id}/stage: queued → uploading, the data kept in the staging area until imported. */
export async function stageData(
  core: ImageCore,
  img: Image,
  source: Readable,
  length?: number,
): Promise<void> {
  if (img.status !== "queued") throw await transitionConflict(core, img.id, "uploading");
  const maxBytes = await admitUpload(core, img.owner, {
    staging: true,
    startsUpload: true,
    start: async (c, max) => {
      checkDeclaredLength(c, length, max);
      if (!(await changeStatus(c, img.id, "queued", "uploading")))
        throw await transitionConflict(c, img.id, "uploading");
    },
  });
  let stored: StoredData;
  let saved: boolean;
  try {
    stored = await stagingStore(core).put(img.id, source, { maxBytes });
  } catch (e) {
    await changeStatus(core, img.id, "uploading", "queued");
    throw dataError(core, e, maxBytes);
  }
  try {
    saved = await commitData(core, img.owner, stored.size, { staging: true }, (c) =>
      changeStatus(c, img.id, "uploading", "uploading", { size: stored.size }),
    );
  } catch (e) {
    await deleteStagedData(core, img.id);
    await changeStatus(core, img.id, "uploading", "queued");
    throw e;
  }
  if (!saved) {
    await deleteStagedData(core, img.id);
    throw new ApiError(410, `Image ${img.id} could not be found after staging; the staged data was removed.`);
  }
}

/** Remove partial files a crash left in a store directory (`<id>.partial-<pid>-<time>`). */
export async function removePartialFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.includes(".partial-")) await rm(join(dir, n), { force: true });
}

import type { Config } from "../shared/config.js";
import { withQuotaLock } from "../shared/db/index.js";
import { ApiError } from "../shared/http/errors.js";
import type { ImageCore } from "./core.js";
import { projectUsage, type Usage } from "./store/images.js";

/** The quota names of config `image.quotas`. */
export type QuotaName = keyof Config["image"]["quotas"];

/** A project's limit for one quota: its override if configured, else the default; -1 = unlimited. */
export function quotaLimit(core: ImageCore, project: string | null, name: QuotaName): number {
  const img = core.cfg.image;
  const own = project !== null ? img.projectQuotas[project]?.[name] : undefined;
  return own ?? img.quotas[name];
}

const RESOURCE: Record<QuotaName, string> = {
  imageCountTotal: "image_count_total",
  imageCountUploading: "image_count_uploading",
  imageSizeTotal: "image_size_total",
  imageStageTotal: "image_stage_total",
  imagePropertyQuota: "image_property_quota",
  imageTagQuota: "image_tag_quota",
  imageMemberQuota: "image_member_quota",
};

/** 413 in the words of oslo.limit. */
function overLimit(project: string, name: QuotaName, limit: number, usage: number, delta: number): ApiError {
  return new ApiError(
    413,
    `Project ${project} is over a limit for [Resource ${RESOURCE[name]} is over limit of ${limit} due to current usage ${usage} and delta ${delta}]`,
  );
}

/** Throw 413 if usage + delta exceeds the project's limit. */
function enforce(
  core: ImageCore,
  project: string | null,
  name: QuotaName,
  usage: number,
  delta: number,
): void {
  if (project === null) return;
  const limit = quotaLimit(core, project, name);
  if (limit >= 0 && usage + delta > limit) throw overLimit(project, name, limit, usage, delta);
}

/**
 * Run `fn` holding the project's image quota lock (withQuotaLock on image_quota_lock): the usage it counts and the
 * rows it writes through the core it is given are one transaction, atomic across API processes. No owner: no lock.
 */
export async function underQuota<T>(
  core: ImageCore,
  project: string | null,
  fn: (core: ImageCore) => Promise<T>,
): Promise<T> {
  if (project === null) return fn(core);
  return withQuotaLock(core.db, "image_quota_lock", "images", project, (trx) => fn(core.withDb(trx)));
}

/** Before creating an image: the project may own one more. */
export async function enforceImageCount(core: ImageCore, project: string | null): Promise<void> {
  if (project === null || quotaLimit(core, project, "imageCountTotal") < 0) return;
  enforce(core, project, "imageCountTotal", (await projectUsage(core, project)).count, 1);
}

/**
 * Before writing image data (upload or import): the project is not over its storage and uploading limits.
 * Returns the most bytes the data may have (the size cap, lowered by what the storage quota leaves). With `start`
 * (the status change into saving/uploading, given that maximum), the check and it run under the quota lock, so
 * concurrent uploads cannot together pass the uploading count.
 */
export async function admitUpload(
  core: ImageCore,
  project: string | null,
  opts: {
    staging?: boolean;
    startsUpload?: boolean;
    start?: (core: ImageCore, maxBytes: number) => Promise<void>;
  } = {},
): Promise<number> {
  const admit = async (c: ImageCore): Promise<number> => {
    const max = await uploadAllowance(c, project, opts);
    if (opts.start) await opts.start(c, max);
    return max;
  };
  return opts.start ? underQuota(core, project, admit) : admit(core);
}

async function uploadAllowance(
  core: ImageCore,
  project: string | null,
  opts: { staging?: boolean; startsUpload?: boolean },
): Promise<number> {
  const cap = core.cfg.image.maxImageSize;
  if (project === null) return cap;
  const usage: Usage = await projectUsage(core, project);
  enforce(core, project, "imageSizeTotal", usage.size, 0);
  if (opts.startsUpload) enforce(core, project, "imageCountUploading", usage.uploading, 1);
  let max = cap;
  const total = quotaLimit(core, project, "imageSizeTotal");
  if (total >= 0) max = Math.min(max, Math.max(0, total - usage.size));
  if (opts.staging) {
    enforce(core, project, "imageStageTotal", usage.staged, 0);
    const stage = quotaLimit(core, project, "imageStageTotal");
    if (stage >= 0) max = Math.min(max, Math.max(0, stage - usage.staged));
  }
  return max;
}

/**
 * Before data counts (an upload or staging becomes stored): under the quota lock, refuse (413) `bytes` more if they
 * take the project over its storage total (and, staging, its staging total), else run `commit`, the status change
 * that makes them count. Concurrent uploads each admitted against the same free space cannot all commit.
 */
export async function commitData<T>(
  core: ImageCore,
  project: string | null,
  bytes: number,
  opts: { staging?: boolean },
  commit: (core: ImageCore) => Promise<T>,
): Promise<T> {
  return underQuota(core, project, async (c) => {
    if (project !== null) {
      const usage = await projectUsage(c, project);
      enforce(c, project, "imageSizeTotal", usage.size, bytes);
      if (opts.staging) enforce(c, project, "imageStageTotal", usage.staged, bytes);
    }
    return commit(c);
  });
}

/** The per-image limits (properties, tags, members): 413 when a change grows past them. */
export function enforcePerImage(
  core: ImageCore,
  name: "imagePropertyQuota" | "imageTagQuota" | "imageMemberQuota",
  before: number,
  after: number,
): void {
  const limit = core.cfg.image.quotas[name];
  if (limit < 0 || after <= limit || after <= before) return;
  const what = {
    imagePropertyQuota: "image properties",
    imageTagQuota: "image tags",
    imageMemberQuota: "image members for this image",
  }[name];
  throw new ApiError(
    413,
    `The limit has been exceeded on the number of allowed ${what}. Attempted: ${after}, Maximum: ${limit}`,
  );
}

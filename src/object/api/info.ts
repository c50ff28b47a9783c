import type { ObjectCore } from "../core.js";
import { SWIFT_VERSION } from "../limits.js";
import { TEMPURL_INFO } from "./tempurl.js";
import { BULK_DELETE_INFO } from "./bulk.js";
import { SLO_INFO } from "./slo.js";
import { VERSIONED_WRITES_INFO } from "./versioning.js";
import { OBJECT_VERSIONING_INFO } from "./object-versioning.js";
import { SYMLINK_INFO } from "./symlink.js";
import { FORMPOST_INFO } from "./formpost.js";
import { BULK_UPLOAD_INFO } from "./extract.js";
import { ACCOUNT_ACL_INFO } from "./account-acl.js";
import { realmsInfo } from "../sync/realms.js";
import { s3Info } from "../s3/limits.js";

/**
 * GET /info (Swift's discoverability): the core limits, and a section per middleware feature, listed only once
 * that feature is implemented here.
 */
export function info(core: ObjectCore): Record<string, unknown> {
  return {
    swift: {
      version: SWIFT_VERSION,
      ...core.limits,
      account_autocreate: true,
      allow_account_management: false,
      strict_cors_mode: true,
      policies: [{ name: "Policy-0", aliases: "Policy-0", default: true }],
    },
    dlo: { max_get_time: 86400 },
    slo: {
      ...SLO_INFO,
      yield_frequency: core.cfg.object.slo.yieldFrequency,
      allow_async_delete: core.cfg.object.slo.allowAsyncDelete,
    },
    tempurl: TEMPURL_INFO,
    container_quotas: {},
    account_quotas: {},
    crossdomain: {},
    staticweb: {},
    bulk_delete: BULK_DELETE_INFO,
    bulk_upload: BULK_UPLOAD_INFO,
    versioned_writes: VERSIONED_WRITES_INFO,
    object_versioning: OBJECT_VERSIONING_INFO,
    symlink: SYMLINK_INFO,
    formpost: FORMPOST_INFO,
    keystoneauth: ACCOUNT_ACL_INFO,
    container_sync: { realms: realmsInfo(core.cfg) },
    s3api: s3Info(core.cfg.object.s3MinPartSize),
  };
}

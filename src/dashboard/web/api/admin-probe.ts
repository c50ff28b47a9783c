// Whether a session may administer the cloud: one admin-only read (the token is project-scoped, so the admin role
// alone does not say it: under secure RBAC only admins of the cloud-admin project, or system admins, are).
import { identityV3 } from "./admin-identity.js";
import type { Api } from "./client.js";
import { ApiError } from "./errors.js";

/** Whether an admin-only read succeeds for this token (false when refused; other failures are thrown). */
export async function probeAdmin(api: Api): Promise<boolean> {
  try {
    if (api.has("compute")) await api.get("compute", "/os-services");
    else await api.get("identity", identityV3(api, "/domains"));
    return true;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return false;
    throw e;
  }
}

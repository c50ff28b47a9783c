// Shared setup of the metadef tests: a booted cloud, admin and demo tokens, and requests to /image/v2/....
import { bootCloud, type TestCloud } from "../../helpers/cloud.js";
import { imageRequester, isGlanceError, type ImageRequest } from "../api/helpers.js";

export { isGlanceError };

/** A cloud with request helpers for the Image API. */
export interface ImageTestCloud {
  c: TestCloud;
  admin: string;
  demo: string;
  adminProject: string;
  demoProject: string;
  /** A request to /image{path}; a body that is not a string is sent as JSON. */
  img: ImageRequest;
  close(): Promise<void>;
}

/** Boot a cloud and get tokens for admin (project admin) and demo (project demo, member role). */
export async function bootImageCloud(): Promise<ImageTestCloud> {
  const c = await bootCloud();
  const admin = await c.adminToken();
  const demo = await c.demoToken();
  const adminProject = await c.projectId("admin");
  const demoProject = await c.projectId("demo");
  const img = imageRequester(c, admin);
  return { c, admin, demo, adminProject, demoProject, img, close: () => c.close() };
}

/** A URL path segment for a namespace or entity name (colons kept, as clients send them). */
export const seg = (name: string): string => encodeURIComponent(name).replace(/%3A/g, ":");

import type { Route } from "../../shared/http/route.js";
import type { ImageService } from "../service.js";

/** Every route of the Image API. */
export function imageRoutes(_svc: ImageService): Route[] {
  return [];
}

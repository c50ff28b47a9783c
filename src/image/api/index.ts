import type { Route } from "../../shared/http/route.js";
import type { ImageService } from "../service.js";
import { dataRoutes } from "./data.js";
import { imageRoutes as imageResourceRoutes } from "./images.js";
import { importRoutes } from "./import.js";
import { memberRoutes } from "./members.js";
import { metadefRoutes } from "./metadefs.js";
import { schemaRoutes } from "./schemas.js";
import { versionRoutes } from "./versions.js";

/** Every route of the Image API. */
export function imageRoutes(svc: ImageService): Route[] {
  const core = svc.core;
  return [
    ...versionRoutes(),
    ...imageResourceRoutes(core),
    ...dataRoutes(core),
    ...memberRoutes(core),
    ...importRoutes(core),
    ...schemaRoutes(),
    ...metadefRoutes(svc),
  ];
}

import type { Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { assignmentRoutes } from "./assignments.js";
import { authRoutes } from "./auth.js";
import { domainRoutes } from "./domains.js";
import { groupRoutes } from "./groups.js";
import { projectRoutes } from "./projects.js";
import { roleRoutes } from "./roles.js";
import { userRoutes } from "./users.js";
import { versionRoutes } from "./versions.js";

/** Every route of the Identity API. */
export function identityRoutes(svc: IdentityService): Route[] {
  return [
    ...versionRoutes(),
    ...authRoutes(svc),
    ...domainRoutes(svc),
    ...projectRoutes(svc),
    ...userRoutes(svc),
    ...groupRoutes(svc),
    ...roleRoutes(svc),
    ...assignmentRoutes(svc),
  ];
}

import type { Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { appCredRoutes } from "./appcreds.js";
import { assignmentRoutes } from "./assignments.js";
import { authRoutes } from "./auth.js";
import { catalogRoutes } from "./catalog.js";
import { credentialRoutes } from "./credentials.js";
import { domainConfigRoutes } from "./domain-config.js";
import { domainRoutes } from "./domains.js";
import { ec2Routes } from "./ec2.js";
import { ec2TokenRoutes } from "./ec2tokens.js";
import { endpointGroupRoutes } from "./endpoint-groups.js";
import { groupRoutes } from "./groups.js";
import { limitRoutes } from "./limits.js";
import { oauthRoutes } from "./oauth.js";
import { policyRoutes } from "./policies.js";
import { projectRoutes } from "./projects.js";
import { revokeRoutes } from "./revoke.js";
import { roleRoutes } from "./roles.js";
import { trustRoutes } from "./trusts.js";
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
    ...catalogRoutes(svc),
    ...appCredRoutes(svc),
    ...credentialRoutes(svc),
    ...limitRoutes(svc),
    ...policyRoutes(svc),
    ...revokeRoutes(svc),
    ...ec2Routes(svc),
    ...ec2TokenRoutes(svc),
    ...oauthRoutes(svc),
    ...domainConfigRoutes(svc),
    ...endpointGroupRoutes(svc),
    ...trustRoutes(svc),
  ];
}

// Every route a set of mounted services answers, as "METHOD /prefix/path" keys (for audits and the RBAC matrix).
import type { Route } from "./route.js";
import type { ServiceApi } from "./service.js";

/** One mounted route with one method: its key, the service, and the route declaration. */
export interface MountedRoute {
  key: string;
  method: string;
  /** Full path with the service prefix, fastify syntax (`/compute/v2.1/servers/:server_id`). */
  path: string;
  service: ServiceApi;
  route: Route;
}

/** Lists every route of the services, one entry per declared method (automatic HEADs not included). */
export function listRoutes(services: readonly ServiceApi[]): MountedRoute[] {
  const out: MountedRoute[] = [];
  for (const service of services)
    for (const route of service.routes)
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        const path = service.prefix + route.path;
        out.push({ key: `${method} ${path}`, method, path, service, route });
      }
  return out;
}

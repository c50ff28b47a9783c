import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DOMAIN_ID } from "./core.js";
import type { IdentityService } from "./service.js";
import { grant, SYSTEM_TARGET } from "./store/assignments.js";
import {
  createEndpoint,
  createRegion,
  createService,
  deleteEndpoint,
  deleteService,
  listEndpoints,
  listServices,
  updateEndpoint,
  getRegion,
} from "./store/catalog.js";
import { createProject, findProject, findProjectByName } from "./store/projects.js";
import { addImplication, createRole, listRoles, type Role } from "./store/roles.js";
import { createUser, findUserForAuth, updateUser } from "./store/users.js";

/** One catalog service Stratus registers: type, name and path below the public base URL. */
export interface CatalogService {
  type: string;
  name: string;
  path: string;
}

/** Every service in the catalog, with the official service types. */
export const CATALOG: CatalogService[] = [
  { type: "identity", name: "keystone", path: "/identity" },
  { type: "compute", name: "nova", path: "/compute/v2.1" },
  { type: "placement", name: "placement", path: "/placement" },
  { type: "image", name: "glance", path: "/image" },
  { type: "network", name: "neutron", path: "/networking" },
  { type: "block-storage", name: "cinder", path: "/volume/v3/$(project_id)s" },
  { type: "volumev3", name: "cinderv3", path: "/volume/v3/$(project_id)s" },
  { type: "object-store", name: "swift", path: "/object-store/v1/AUTH_$(project_id)s" },
];

/** Credentials bootstrap created or reused. */
export interface BootstrapResult {
  adminPassword: string;
  demoPassword: string;
  /** Password of the "nova" service user (project "service", roles admin and service) the compute control plane uses. */
  servicePassword: string;
}

/** Idempotently create the default domain, roles, admin/demo users and projects, region and catalog (like keystone-manage bootstrap). */
export async function bootstrap(
  svc: IdentityService,
  baseUrl: string,
  /** Service types that answer in this cloud; the others get no endpoints (clients skip what is not listed). */
  live?: readonly string[],
): Promise<BootstrapResult> {
  const core = svc.core;
  const cfg = core.cfg;
  const secretsFile = join(cfg.dataDir, "bootstrap-secrets.json");
  const saved = existsSync(secretsFile)
    ? (JSON.parse(readFileSync(secretsFile, "utf8")) as Partial<BootstrapResult>)
    : {};
  const adminPassword =
    cfg.identity.adminPassword ?? saved.adminPassword ?? randomBytes(12).toString("base64url");
  const demoPassword =
    cfg.identity.demoPassword ?? saved.demoPassword ?? randomBytes(12).toString("base64url");
  const servicePassword = saved.servicePassword ?? randomBytes(18).toString("base64url");
  writeFileSync(secretsFile, JSON.stringify({ adminPassword, demoPassword, servicePassword }, null, 2), {
    mode: 0o600,
  });

  if (!(await findProject(core, DEFAULT_DOMAIN_ID)))
    await createProject(core, {
      id: DEFAULT_DOMAIN_ID,
      name: "Default",
      is_domain: true,
      description: "The default domain",
    });
  const role = async (name: string): Promise<Role> =>
    (await listRoles(core, { name }))[0] ?? createRole(core, { name });
  const admin = await role("admin");
  const manager = await role("manager");
  const member = await role("member");
  const reader = await role("reader");
  const serviceRole = await role("service");
  // Swift's reseller admin role: block storage's service client writes backups into every project's account with it.
  const resellerRole = await role("ResellerAdmin");
  // Keystone 2024's chain: admin ⇒ manager ⇒ member ⇒ reader (clouds bootstrapped before keep admin ⇒ member too).
  await addImplication(core, admin.id, manager.id);
  await addImplication(core, manager.id, member.id);
  await addImplication(core, member.id, reader.id);

  const project = async (name: string, description: string) =>
    (await findProjectByName(core, name, DEFAULT_DOMAIN_ID)) ??
    createProject(core, { name, domain_id: DEFAULT_DOMAIN_ID, description });
  const adminProject = await project("admin", "Bootstrap project for the cloud administrator");
  const demoProject = await project("demo", "Demo project");
  const serviceProject = await project("service", "Project for service users");

  const user = async (name: string, password: string, defaultProject: string) => {
    const u = await findUserForAuth(core, { name, domainId: DEFAULT_DOMAIN_ID });
    if (!u)
      return createUser(core, {
        name,
        domain_id: DEFAULT_DOMAIN_ID,
        password,
        default_project_id: defaultProject,
      });
    if (!(await core.hasher.verify(password, u.password_hash)))
      return updateUser(core, u, { password, enabled: true });
    return u;
  };
  const adminUser = await user("admin", adminPassword, adminProject.id);
  const demoUser = await user("demo", demoPassword, demoProject.id);
  await grant(core, {
    type: "UserProject",
    actorId: adminUser.id,
    targetId: adminProject.id,
    roleId: admin.id,
    inherited: false,
  });
  await grant(core, {
    type: "UserSystem",
    actorId: adminUser.id,
    targetId: SYSTEM_TARGET,
    roleId: admin.id,
    inherited: false,
  });
  await grant(core, {
    type: "UserProject",
    actorId: demoUser.id,
    targetId: demoProject.id,
    roleId: member.id,
    inherited: false,
  });

  const novaUser = await user("nova", servicePassword, serviceProject.id);
  for (const r of [admin, serviceRole, resellerRole])
    await grant(core, {
      type: "UserProject",
      actorId: novaUser.id,
      targetId: serviceProject.id,
      roleId: r.id,
      inherited: false,
    });

  const region = cfg.region;
  if (!(await getRegion(core, region).catch(() => null)))
    await createRegion(core, { id: region, description: "" });
  const services = await listServices(core);
  const endpoints = await listEndpoints(core);
  for (const c of CATALOG) {
    const answers =
      !live || live.includes(c.type) || (c.type === "volumev3" && live.includes("block-storage"));
    const existing = services.find((x) => x.type === c.type);
    if (!answers) {
      // A planned service is not in the catalog until it runs: clients (openstack quota show, limits show)
      // call every service listed. Remove what an earlier version registered for it.
      if (!existing) continue;
      const mine = endpoints.filter((e) => e.service_id === existing.id);
      for (const e of mine) if (e.url === baseUrl + c.path) await deleteEndpoint(core, e.id);
      if (mine.every((e) => e.url === baseUrl + c.path) && existing.name === c.name)
        await deleteService(core, existing.id).catch(() => undefined);
      continue;
    }
    const s =
      existing ??
      (await createService(core, { type: c.type, name: c.name, description: `Stratus ${c.type} service` }));
    for (const iface of ["public", "internal", "admin"] as const) {
      const url = baseUrl + c.path;
      const ep = endpoints.find(
        (e) => e.service_id === s.id && e.interface === iface && e.region_id === region,
      );
      if (!ep) await createEndpoint(core, { service_id: s.id, interface: iface, url, region_id: region });
      else if (ep.url !== url) await updateEndpoint(core, ep, { url });
    }
  }
  return { adminPassword, demoPassword, servicePassword };
}

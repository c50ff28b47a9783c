import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** Inputs for the client configuration files. */
export interface ClientFiles {
  dataDir: string;
  authUrl: string;
  region: string;
  adminPassword: string;
  demoPassword: string;
}

function atomicWrite(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Write DIR/clouds.yaml (clouds stratus-admin, stratus-demo, stratus-system) and admin-openrc/demo-openrc. */
export function writeClientFiles(f: ClientFiles): string {
  const cloud = (username: string, password: string, scope: Record<string, string>) => ({
    auth: { auth_url: f.authUrl, username, password, user_domain_name: "Default", ...scope },
    region_name: f.region,
    interface: "public",
    identity_api_version: 3,
  });
  const project = (name: string) => ({ project_name: name, project_domain_name: "Default" });
  const doc = {
    clouds: {
      "stratus-admin": cloud("admin", f.adminPassword, project("admin")),
      "stratus-demo": cloud("demo", f.demoPassword, project("demo")),
      "stratus-system": cloud("admin", f.adminPassword, { system_scope: "all" }),
    },
  };
  const rc = (user: string, password: string, proj: string) =>
    [
      `# Source this file to use the openstack CLI as ${user}: . ${join(f.dataDir, `${user}-openrc`)}`,
      `export OS_AUTH_URL=${f.authUrl}`,
      `export OS_IDENTITY_API_VERSION=3`,
      `export OS_USERNAME=${user}`,
      `export OS_PASSWORD='${password}'`,
      `export OS_PROJECT_NAME=${proj}`,
      `export OS_USER_DOMAIN_NAME=Default`,
      `export OS_PROJECT_DOMAIN_NAME=Default`,
      `export OS_REGION_NAME=${f.region}`,
      `export OS_INTERFACE=public`,
      "",
    ].join("\n");
  atomicWrite(join(f.dataDir, "admin-openrc"), rc("admin", f.adminPassword, "admin"));
  atomicWrite(join(f.dataDir, "demo-openrc"), rc("demo", f.demoPassword, "demo"));
  const path = join(f.dataDir, "clouds.yaml");
  atomicWrite(path, stringify(doc));
  return path;
}

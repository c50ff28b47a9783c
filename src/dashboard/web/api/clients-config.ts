// clouds.yaml and openrc files for the logged-in user, generated from the session (no password is included).
import type { Session } from "./session.js";

const sq = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
const yq = (s: string) => JSON.stringify(s);

/** A clouds.yaml naming this session's project; `authUrl` is the absolute Keystone URL. */
export function cloudsYaml(s: Session, authUrl: string, region: string): string {
  return [
    "clouds:",
    "  stratus:",
    "    auth:",
    `      auth_url: ${yq(authUrl)}`,
    `      username: ${yq(s.user.name)}`,
    `      user_domain_name: ${yq(s.user.domain.name)}`,
    `      project_name: ${yq(s.project.name)}`,
    `      project_domain_name: ${yq(s.project.domain.name)}`,
    "      # password: add yours here, or let the client prompt",
    `    region_name: ${yq(region)}`,
    "    interface: public",
    "    identity_api_version: 3",
    "",
  ].join("\n");
}

/** An openrc shell script for this session's project; it asks for the password when sourced. */
export function openrc(s: Session, authUrl: string, region: string): string {
  return [
    "#!/usr/bin/env bash",
    "# Source this file: . ./openrc.sh",
    `export OS_AUTH_URL=${sq(authUrl)}`,
    "export OS_IDENTITY_API_VERSION=3",
    `export OS_USERNAME=${sq(s.user.name)}`,
    `export OS_USER_DOMAIN_NAME=${sq(s.user.domain.name)}`,
    `export OS_PROJECT_NAME=${sq(s.project.name)}`,
    `export OS_PROJECT_DOMAIN_NAME=${sq(s.project.domain.name)}`,
    `export OS_REGION_NAME=${sq(region)}`,
    "export OS_INTERFACE=public",
    'read -r -s -p "Password for $OS_USERNAME: " OS_PASSWORD && echo',
    "export OS_PASSWORD",
    "",
  ].join("\n");
}

import { createHash, randomUUID } from "node:crypto";
import type { IdentityCore } from "../core.js";
import { createCredential, findCredential, listCredentials, type Credential } from "./credentials.js";

/** The credential type of EC2 key pairs (Keystone's CRED_TYPE_EC2). */
export const EC2 = "ec2";

/** An EC2 key pair as the OS-EC2 API shows it. */
export interface Ec2Credential {
  user_id: string;
  tenant_id: string | null;
  access: string;
  secret: string | null;
  trust_id: string | null;
}

/** The id an EC2 credential is stored under: the hex SHA-256 of its access key (Keystone's hash_access_key). */
export const ec2CredentialId = (access: string): string =>
  createHash("sha256").update(access, "utf8").digest("hex");

function blobOf(c: Credential): Record<string, unknown> {
  try {
    const b: unknown = JSON.parse(c.blob);
    return b && typeof b === "object" && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The OS-EC2 view of a stored credential. */
export function toEc2(c: Credential): Ec2Credential {
  const b = blobOf(c);
  return {
    user_id: c.user_id,
    tenant_id: c.project_id,
    access: String(b.access ?? ""),
    secret: str(b.secret),
    trust_id: str(b.trust_id),
  };
}

/** A user's EC2 credentials. */
export async function listEc2Credentials(core: IdentityCore, userId: string): Promise<Credential[]> {
  return listCredentials(core, { user_id: userId, type: EC2 });
}

/** The EC2 credential with this access key, or null (also null when the id holds another type). */
export async function findEc2Credential(core: IdentityCore, access: string): Promise<Credential | null> {
  const c = await findCredential(core, ec2CredentialId(access));
  return c && c.type.toLowerCase() === EC2 ? c : null;
}

/** Make a new EC2 key pair for a user on a project: random access and secret, stored as a v3 credential. */
export async function createEc2Credential(
  core: IdentityCore,
  input: { user_id: string; project_id: string; trust_id?: string | null },
): Promise<Credential> {
  const access = randomUUID().replace(/-/g, "");
  const blob: Record<string, unknown> = {
    access,
    secret: randomUUID().replace(/-/g, ""),
    project_id: input.project_id,
  };
  // Keystone writes trust_id: null; it is left out here when unset so the blob compares equal after a PATCH that
  // omits it (missing and null mean the same to Keystone).
  if (input.trust_id) blob.trust_id = input.trust_id;
  return createCredential(core, {
    id: ec2CredentialId(access),
    user_id: input.user_id,
    project_id: input.project_id,
    type: EC2,
    blob: JSON.stringify(blob),
  });
}

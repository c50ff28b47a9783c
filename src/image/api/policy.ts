import type { RuleDefault } from "../../shared/policy/index.js";
import { metadefPolicies } from "./metadefs-policy.js";

// Glance's defaults (secure RBAC, over the persona rules of shared/policy/personas.ts; its admin is a cloud admin,
// never the admin of some other project): the target is the image, with project_id = its owner and member_id = the
// caller's project when the caller sees a shared image as a member.
const ADMIN = "rule:context_is_admin";
const PROJECT_MEMBER = "rule:project_member";
const PROJECT_READER = "rule:project_reader";
const IMAGE_MEMBER = "project_id:%(member_id)s";
const SEEN = `project_id:%(project_id)s or ${IMAGE_MEMBER} or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s`;
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (${PROJECT_READER})`;
const ADMIN_OR_READER_GET_IMAGE = `${ADMIN} or (role:reader and (${SEEN}))`;
const ADMIN_OR_MEMBER_DOWNLOAD = `${ADMIN} or (role:member and (${SEEN}))`;
const ADMIN_OR_READER_OR_SHARED_MEMBER = `${ADMIN} or (role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER}))`;
const ADMIN_OR_SHARED_MEMBER = `${ADMIN} or (role:member and ${IMAGE_MEMBER})`;

const op = (method: string, path: string) => [{ method, path }];
const IMG = "/v2/images/{image_id}";

/** Image policy rules with their defaults (Glance's names, overridable in DATA_DIR/policy.yaml). */
export const imagePolicies: RuleDefault[] = [
  {
    name: "default",
    check: "",
    description: "Rule for policies a policy file leaves unset (Glance's default).",
  },
  {
    name: "context_is_admin",
    check: "rule:cloud_admin",
    description: "Who is an image admin: sees and changes every image.",
  },
  { name: "service_api", check: "role:service", description: "Service-to-service image API calls." },
  {
    name: "add_image",
    check: `${ADMIN} or (${PROJECT_MEMBER} and project_id:%(owner)s)`,
    description: "Create an image (owned by the caller's project unless admin).",
    scopeTypes: ["project"],
    operations: op("POST", "/v2/images"),
  },
  {
    name: "delete_image",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Delete an image.",
    scopeTypes: ["project"],
    operations: op("DELETE", IMG),
  },
  {
    name: "get_image",
    check: ADMIN_OR_READER_GET_IMAGE,
    description: "Show an image.",
    scopeTypes: ["project"],
    operations: op("GET", IMG),
  },
  {
    name: "get_images",
    check: ADMIN_OR_PROJECT_READER,
    description: "List images.",
    scopeTypes: ["project"],
    operations: op("GET", "/v2/images"),
  },
  {
    name: "modify_image",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Update an image, its tags, stage or import data.",
    scopeTypes: ["project"],
    operations: op("PATCH", IMG),
  },
  {
    name: "publicize_image",
    check: ADMIN,
    description: "Make an image public.",
    scopeTypes: ["project"],
    operations: op("PATCH", IMG),
  },
  {
    name: "communitize_image",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Make an image community.",
    scopeTypes: ["project"],
    operations: op("PATCH", IMG),
  },
  {
    name: "download_image",
    check: ADMIN_OR_MEMBER_DOWNLOAD,
    description: "Download image data.",
    scopeTypes: ["project"],
    operations: op("GET", `${IMG}/file`),
  },
  {
    name: "upload_image",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Upload image data.",
    scopeTypes: ["project"],
    operations: op("PUT", `${IMG}/file`),
  },
  {
    name: "add_member",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Share an image with a project.",
    scopeTypes: ["project"],
    operations: op("POST", `${IMG}/members`),
  },
  {
    name: "delete_member",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Stop sharing an image with a project.",
    scopeTypes: ["project"],
    operations: op("DELETE", `${IMG}/members/{member_id}`),
  },
  {
    name: "get_member",
    check: ADMIN_OR_READER_OR_SHARED_MEMBER,
    description: "Show an image member.",
    scopeTypes: ["project"],
    operations: op("GET", `${IMG}/members/{member_id}`),
  },
  {
    name: "get_members",
    check: ADMIN_OR_READER_OR_SHARED_MEMBER,
    description: "List image members.",
    scopeTypes: ["project"],
    operations: op("GET", `${IMG}/members`),
  },
  {
    name: "modify_member",
    check: ADMIN_OR_SHARED_MEMBER,
    description: "Accept or reject a shared image (the member's project).",
    scopeTypes: ["project"],
    operations: op("PUT", `${IMG}/members/{member_id}`),
  },
  {
    name: "deactivate",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Deactivate an image (its project or an admin).",
    scopeTypes: ["project"],
    operations: op("POST", `${IMG}/actions/deactivate`),
  },
  {
    name: "reactivate",
    check: ADMIN_OR_PROJECT_MEMBER,
    description: "Reactivate an image (its project or an admin).",
    scopeTypes: ["project"],
    operations: op("POST", `${IMG}/actions/reactivate`),
  },
  ...metadefPolicies,
];

import type { RuleDefault } from "../../shared/policy/index.js";

// Placement's defaults (2023.1): every API is for cloud admins (rule:cloud_admin, see shared/policy/personas.ts)
// and services (the service users of nova, neutron, cyborg, ...), except GET /usages, which a reader of the
// project may also call.
const ADMIN_OR_SERVICE = "rule:cloud_admin or role:service";
const ADMIN_OR_PROJECT_READER_OR_SERVICE = `${ADMIN_OR_SERVICE} or rule:project_reader`;

const rule = (name: string, description: string, method: string, path: string, check = ADMIN_OR_SERVICE) => ({
  name,
  check,
  description,
  scopeTypes: ["project" as const, "system" as const],
  operations: [{ method, path }],
});

const RP = "/resource_providers/{uuid}";

/** Placement policy rules with their defaults (overridable in DATA_DIR/policy.yaml). */
export const placementPolicies: RuleDefault[] = [
  rule("placement:resource_providers:list", "List resource providers.", "GET", "/resource_providers"),
  rule("placement:resource_providers:create", "Create resource provider.", "POST", "/resource_providers"),
  rule("placement:resource_providers:show", "Show resource provider.", "GET", RP),
  rule("placement:resource_providers:update", "Update resource provider.", "PUT", RP),
  rule("placement:resource_providers:delete", "Delete resource provider.", "DELETE", RP),
  rule("placement:resource_providers:inventories:list", "List inventories.", "GET", `${RP}/inventories`),
  rule(
    "placement:resource_providers:inventories:create",
    "Create one inventory.",
    "POST",
    `${RP}/inventories`,
  ),
  rule(
    "placement:resource_providers:inventories:show",
    "Show one inventory.",
    "GET",
    `${RP}/inventories/{resource_class}`,
  ),
  rule(
    "placement:resource_providers:inventories:update",
    "Update one or all inventories.",
    "PUT",
    `${RP}/inventories`,
  ),
  rule(
    "placement:resource_providers:inventories:delete",
    "Delete one or all inventories.",
    "DELETE",
    `${RP}/inventories`,
  ),
  rule(
    "placement:resource_providers:aggregates:list",
    "List provider aggregates.",
    "GET",
    `${RP}/aggregates`,
  ),
  rule(
    "placement:resource_providers:aggregates:update",
    "Set provider aggregates.",
    "PUT",
    `${RP}/aggregates`,
  ),
  rule("placement:resource_providers:usages", "Show provider usages.", "GET", `${RP}/usages`),
  rule(
    "placement:usages",
    "Show usages of a project (and user).",
    "GET",
    "/usages",
    ADMIN_OR_PROJECT_READER_OR_SERVICE,
  ),
  rule("placement:traits:list", "List traits.", "GET", "/traits"),
  rule("placement:traits:show", "Check a trait exists.", "GET", "/traits/{name}"),
  rule("placement:traits:update", "Create a custom trait.", "PUT", "/traits/{name}"),
  rule("placement:traits:delete", "Delete a custom trait.", "DELETE", "/traits/{name}"),
  rule("placement:resource_providers:traits:list", "List provider traits.", "GET", `${RP}/traits`),
  rule("placement:resource_providers:traits:update", "Set provider traits.", "PUT", `${RP}/traits`),
  rule("placement:resource_providers:traits:delete", "Remove provider traits.", "DELETE", `${RP}/traits`),
  rule("placement:resource_classes:list", "List resource classes.", "GET", "/resource_classes"),
  rule("placement:resource_classes:create", "Create a custom resource class.", "POST", "/resource_classes"),
  rule("placement:resource_classes:show", "Show a resource class.", "GET", "/resource_classes/{name}"),
  rule(
    "placement:resource_classes:update",
    "Create or rename a custom class.",
    "PUT",
    "/resource_classes/{name}",
  ),
  rule(
    "placement:resource_classes:delete",
    "Delete a custom resource class.",
    "DELETE",
    "/resource_classes/{name}",
  ),
  rule(
    "placement:allocations:list",
    "List allocations of a consumer.",
    "GET",
    "/allocations/{consumer_uuid}",
  ),
  rule(
    "placement:allocations:update",
    "Set allocations of a consumer.",
    "PUT",
    "/allocations/{consumer_uuid}",
  ),
  rule(
    "placement:allocations:delete",
    "Delete allocations of a consumer.",
    "DELETE",
    "/allocations/{consumer_uuid}",
  ),
  rule("placement:allocations:manage", "Set allocations of several consumers.", "POST", "/allocations"),
  rule(
    "placement:resource_providers:allocations:list",
    "List provider allocations.",
    "GET",
    `${RP}/allocations`,
  ),
  rule(
    "placement:allocation_candidates:list",
    "List allocation candidates.",
    "GET",
    "/allocation_candidates",
  ),
  rule("placement:reshaper:reshape", "Reshape inventories and allocations.", "POST", "/reshaper"),
];

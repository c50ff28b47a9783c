import type { RuleDefault } from "../../shared/policy/index.js";

// Glance's metadef rules with their current defaults: reads for the namespace owner's readers and for anyone
// with a reader role when the namespace is public; writes for admins. Targets carry the namespace's owner as
// project_id and its visibility (or the caller's project when no namespace is involved).
const ADMIN = "rule:metadef_admin";
const READ_NAMESPACE = `${ADMIN} or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))`;
const READ_OWN = `${ADMIN} or (role:reader and project_id:%(project_id)s)`;

const NS = "/v2/metadefs/namespaces";

const rule = (
  name: string,
  check: string,
  description: string,
  method: string,
  path: string,
): RuleDefault => ({ name, check, description, scopeTypes: ["project"], operations: [{ method, path }] });

/** Policy rules of the Metadata Definitions catalog (Glance's names; overridable in DATA_DIR/policy.yaml). */
export const metadefPolicies: RuleDefault[] = [
  { name: "metadef_default", check: "", description: "Anyone (kept for old policy files that refer to it)." },
  {
    name: "metadef_admin",
    check: "rule:cloud_admin",
    description: "Who may change the metadata definitions catalog.",
  },
  rule("get_metadef_namespace", READ_NAMESPACE, "Show a namespace.", "GET", `${NS}/{namespace_name}`),
  rule("get_metadef_namespaces", READ_OWN, "List namespaces.", "GET", NS),
  rule("add_metadef_namespace", ADMIN, "Create a namespace.", "POST", NS),
  rule("modify_metadef_namespace", ADMIN, "Update a namespace.", "PUT", `${NS}/{namespace_name}`),
  rule(
    "delete_metadef_namespace",
    ADMIN,
    "Delete a namespace or all of its objects, properties or tags.",
    "DELETE",
    `${NS}/{namespace_name}`,
  ),
  rule(
    "get_metadef_object",
    READ_NAMESPACE,
    "Show an object of a namespace.",
    "GET",
    `${NS}/{namespace_name}/objects/{object_name}`,
  ),
  rule(
    "get_metadef_objects",
    READ_NAMESPACE,
    "List the objects of a namespace.",
    "GET",
    `${NS}/{namespace_name}/objects`,
  ),
  rule(
    "add_metadef_object",
    ADMIN,
    "Create an object in a namespace.",
    "POST",
    `${NS}/{namespace_name}/objects`,
  ),
  rule(
    "modify_metadef_object",
    ADMIN,
    "Update an object of a namespace.",
    "PUT",
    `${NS}/{namespace_name}/objects/{object_name}`,
  ),
  rule(
    "delete_metadef_object",
    ADMIN,
    "Delete an object of a namespace.",
    "DELETE",
    `${NS}/{namespace_name}/objects/{object_name}`,
  ),
  rule(
    "list_metadef_resource_types",
    READ_NAMESPACE,
    "List resource types and a namespace's resource type associations.",
    "GET",
    "/v2/metadefs/resource_types",
  ),
  rule(
    "get_metadef_resource_type",
    READ_NAMESPACE,
    "Show a resource type association of a namespace.",
    "GET",
    `${NS}/{namespace_name}/resource_types`,
  ),
  rule(
    "add_metadef_resource_type_association",
    ADMIN,
    "Associate a resource type with a namespace.",
    "POST",
    `${NS}/{namespace_name}/resource_types`,
  ),
  rule(
    "remove_metadef_resource_type_association",
    ADMIN,
    "Remove a resource type association from a namespace.",
    "DELETE",
    `${NS}/{namespace_name}/resource_types/{name}`,
  ),
  rule(
    "get_metadef_property",
    READ_NAMESPACE,
    "Show a property of a namespace.",
    "GET",
    `${NS}/{namespace_name}/properties/{property_name}`,
  ),
  rule(
    "get_metadef_properties",
    READ_NAMESPACE,
    "List the properties of a namespace.",
    "GET",
    `${NS}/{namespace_name}/properties`,
  ),
  rule(
    "add_metadef_property",
    ADMIN,
    "Create a property in a namespace.",
    "POST",
    `${NS}/{namespace_name}/properties`,
  ),
  rule(
    "modify_metadef_property",
    ADMIN,
    "Update a property of a namespace.",
    "PUT",
    `${NS}/{namespace_name}/properties/{property_name}`,
  ),
  rule(
    "remove_metadef_property",
    ADMIN,
    "Delete a property of a namespace.",
    "DELETE",
    `${NS}/{namespace_name}/properties/{property_name}`,
  ),
  rule(
    "get_metadef_tag",
    READ_NAMESPACE,
    "Show a tag of a namespace.",
    "GET",
    `${NS}/{namespace_name}/tags/{tag_name}`,
  ),
  rule(
    "get_metadef_tags",
    READ_NAMESPACE,
    "List the tags of a namespace.",
    "GET",
    `${NS}/{namespace_name}/tags`,
  ),
  rule(
    "add_metadef_tag",
    ADMIN,
    "Create a tag in a namespace.",
    "POST",
    `${NS}/{namespace_name}/tags/{tag_name}`,
  ),
  rule(
    "add_metadef_tags",
    ADMIN,
    "Create (or replace) several tags of a namespace.",
    "POST",
    `${NS}/{namespace_name}/tags`,
  ),
  rule(
    "modify_metadef_tag",
    ADMIN,
    "Rename a tag of a namespace.",
    "PUT",
    `${NS}/{namespace_name}/tags/{tag_name}`,
  ),
  rule(
    "delete_metadef_tag",
    ADMIN,
    "Delete a tag of a namespace.",
    "DELETE",
    `${NS}/{namespace_name}/tags/{tag_name}`,
  ),
  rule(
    "delete_metadef_tags",
    ADMIN,
    "Delete all tags of a namespace.",
    "DELETE",
    `${NS}/{namespace_name}/tags`,
  ),
];

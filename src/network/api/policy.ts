// Neutron's secure-RBAC defaults, written over the persona rules (src/shared/policy/personas.ts): project readers
// read, members write, cloud admins do everything and alone set provider, sharing, external and binding
// attributes; a network's owner manages the subnets and ports on it. Service users (role service: compute's nova
// user) read networks, subnets, floating IPs and ports of every project, and create, bind and delete the ports of
// any project's servers (rule service_api), as Neutron's defaults let Nova. Rule names are Neutron's, so a policy.yaml
// written for Neutron applies (the base rules Glance also names, context_is_admin and owner, are spelt admin_only
// and network_owner here). Targets: a resource's attributes, plus `network:project_id` (its network's owner),
// `shared` and `router:external` of its network as the caller sees them.
import { P } from "../../shared/policy/personas.js";
import type { RuleDefault } from "../../shared/policy/index.js";

const ADMIN = "rule:admin_only";
const READER_ALL = P.CLOUD_READER;
const PROJECT_READER = P.PROJECT_READER;
const PROJECT_MEMBER = P.PROJECT_MEMBER;
const NET_OWNER_MEMBER = "(role:member and rule:network_owner)";
const NET_OWNER_READER = "(role:reader and rule:network_owner)";
const ADMIN_OR_NET_OWNER_MEMBER = `${ADMIN} or ${NET_OWNER_MEMBER}`;
/** Service-to-service calls (compute's service user binding ports and setting their device): `service_api`, the
 * shared rule (role:service) the image policy registers in the one enforcer. */
const SERVICE = "rule:service_api";
const ADMIN_OR_SERVICE = `${ADMIN} or ${SERVICE}`;

const rule = (name: string, check: string, description: string, method = "", path = ""): RuleDefault => ({
  name,
  check,
  description,
  scopeTypes: ["project"],
  ...(method ? { operations: [{ method, path }] } : {}),
});

const NET = "/v2.0/networks/{id}";
const SUB = "/v2.0/subnets/{id}";
const PORT = "/v2.0/ports/{id}";
const POOL = "/v2.0/subnetpools/{id}";
const RBAC = "/v2.0/rbac-policies/{id}";
const ROUTER = "/v2.0/routers/{id}";
const FIP = "/v2.0/floatingips/{id}";
const PF = "/v2.0/floatingips/{floatingip_id}/port_forwardings";
const SG = "/v2.0/security-groups/{id}";
const SGR = "/v2.0/security-group-rules/{id}";
const SG_OWNER_MEMBER = "(role:member and rule:sg_owner)";
const SG_OWNER_READER = "(role:reader and rule:sg_owner)";

/** Rules of the attributes only admins set (create and update) and read. */
function adminAttrs(resource: string, attrs: string[], path: string, collection: string): RuleDefault[] {
  return attrs.flatMap((a) => [
    rule(`create_${resource}:${a}`, ADMIN, `Set ${a} when creating a ${resource}.`, "POST", collection),
    rule(`update_${resource}:${a}`, ADMIN, `Change ${a} of a ${resource}.`, "PUT", path),
  ]);
}

const PROVIDER = ["provider:network_type", "provider:physical_network", "provider:segmentation_id"];
const BINDING_READ = ["binding:vif_type", "binding:vif_details", "binding:host_id", "binding:profile"];

/** The network service's policy rules with their defaults (overridable in DATA_DIR/policy.yaml). */
export const networkPolicies: RuleDefault[] = [
  {
    name: "admin_only",
    check: "rule:cloud_admin",
    description: "A cloud admin (Neutron's context_is_admin).",
  },
  { name: "regular_user", check: "", description: "Any authenticated user." },
  {
    name: "network_owner",
    check: "project_id:%(network:project_id)s",
    description: "The caller's project owns the resource's network.",
  },
  {
    name: "shared",
    check: "'True':%(shared)s",
    description: "The resource's network is shared with the caller.",
  },
  {
    name: "external",
    check: "'True':%(router:external)s",
    description: "The network is an external network.",
  },
  { name: "shared_subnetpools", check: "'True':%(shared)s", description: "The subnet pool is shared." },
  {
    name: "network_device",
    check: "'True':%(network_device)s",
    description: "The port's device_owner starts with network:.",
  },
  {
    name: "sg_owner",
    check: "project_id:%(security_group:project_id)s",
    description: "The caller's project owns the rule's security group.",
  },
  {
    name: "rbac_wildcard",
    check: "'True':%(target_wildcard)s",
    description: "The RBAC policy targets every project (target_tenant *).",
  },

  rule("create_network", PROJECT_MEMBER, "Create a network.", "POST", "/v2.0/networks"),
  rule("create_network:shared", ADMIN, "Create a shared network.", "POST", "/v2.0/networks"),
  rule("create_network:router:external", ADMIN, "Create an external network.", "POST", "/v2.0/networks"),
  rule(
    "create_network:port_security_enabled",
    PROJECT_MEMBER,
    "Set port_security_enabled.",
    "POST",
    "/v2.0/networks",
  ),
  ...adminAttrs("network", PROVIDER, NET, "/v2.0/networks"),
  rule(
    "get_network",
    `${PROJECT_READER} or rule:shared or rule:external or ${SERVICE}`,
    "Show a network.",
    "GET",
    NET,
  ),
  rule("get_network:router:external", "rule:regular_user", "See router:external.", "GET", NET),
  ...PROVIDER.map((a) => rule(`get_network:${a}`, READER_ALL, `See ${a}.`, "GET", NET)),
  rule("update_network", PROJECT_MEMBER, "Update a network.", "PUT", NET),
  rule("update_network:shared", ADMIN, "Share or unshare a network.", "PUT", NET),
  rule("update_network:router:external", ADMIN, "Make a network external or not.", "PUT", NET),
  rule("update_network:port_security_enabled", PROJECT_MEMBER, "Change port_security_enabled.", "PUT", NET),
  rule("delete_network", PROJECT_MEMBER, "Delete a network.", "DELETE", NET),

  rule("create_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Create a subnet on a network.", "POST", "/v2.0/subnets"),
  rule("get_subnet", `${PROJECT_READER} or rule:shared or ${SERVICE}`, "Show a subnet.", "GET", SUB),
  rule("update_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Update a subnet.", "PUT", SUB),
  rule("delete_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Delete a subnet.", "DELETE", SUB),

  rule("create_subnetpool", PROJECT_MEMBER, "Create a subnet pool.", "POST", "/v2.0/subnetpools"),
  rule("create_subnetpool:shared", ADMIN, "Create a shared subnet pool.", "POST", "/v2.0/subnetpools"),
  rule("create_subnetpool:is_default", ADMIN, "Create a default subnet pool.", "POST", "/v2.0/subnetpools"),
  rule("get_subnetpool", `${PROJECT_READER} or rule:shared_subnetpools`, "Show a subnet pool.", "GET", POOL),
  rule("update_subnetpool", PROJECT_MEMBER, "Update a subnet pool.", "PUT", POOL),
  rule("update_subnetpool:is_default", ADMIN, "Make a subnet pool the default.", "PUT", POOL),
  rule("delete_subnetpool", PROJECT_MEMBER, "Delete a subnet pool.", "DELETE", POOL),
  rule("add_prefixes", PROJECT_MEMBER, "Add prefixes to a subnet pool.", "PUT", `${POOL}/add_prefixes`),
  rule(
    "remove_prefixes",
    PROJECT_MEMBER,
    "Remove prefixes of a subnet pool.",
    "PUT",
    `${POOL}/remove_prefixes`,
  ),

  rule("create_port", `${PROJECT_MEMBER} or ${SERVICE}`, "Create a port.", "POST", "/v2.0/ports"),
  rule(
    "create_port:device_owner",
    `not rule:network_device or ${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Set a network:* device_owner.",
    "POST",
    "/v2.0/ports",
  ),
  rule(
    "create_port:mac_address",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Choose the MAC.",
    "POST",
    "/v2.0/ports",
  ),
  rule(
    "create_port:fixed_ips:ip_address",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Choose an address.",
    "POST",
    "/v2.0/ports",
  ),
  rule(
    "create_port:fixed_ips:subnet_id",
    `${ADMIN_OR_NET_OWNER_MEMBER} or rule:shared or ${SERVICE}`,
    "Choose a subnet.",
    "POST",
    "/v2.0/ports",
  ),
  rule(
    "create_port:port_security_enabled",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Set port security.",
    "POST",
    "/v2.0/ports",
  ),
  rule("create_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a port to a host.", "POST", "/v2.0/ports"),
  rule("create_port:binding:profile", ADMIN_OR_SERVICE, "Set a binding profile.", "POST", "/v2.0/ports"),
  rule("create_port:binding:vnic_type", PROJECT_MEMBER, "Set the VNIC type.", "POST", "/v2.0/ports"),
  rule(
    "create_port:allowed_address_pairs",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Set allowed address pairs.",
    "POST",
    "/v2.0/ports",
  ),
  rule("get_port", `${PROJECT_READER} or ${NET_OWNER_READER} or ${SERVICE}`, "Show a port.", "GET", PORT),
  ...BINDING_READ.map((a) => rule(`get_port:${a}`, `${READER_ALL} or ${SERVICE}`, `See ${a}.`, "GET", PORT)),
  rule("update_port", `${PROJECT_MEMBER} or ${SERVICE}`, "Update a port.", "PUT", PORT),
  rule(
    "update_port:device_owner",
    `not rule:network_device or ${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Set a network:* device_owner.",
    "PUT",
    PORT,
  ),
  rule("update_port:mac_address", ADMIN_OR_SERVICE, "Change the MAC.", "PUT", PORT),
  rule(
    "update_port:fixed_ips:ip_address",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Choose an address.",
    "PUT",
    PORT,
  ),
  rule(
    "update_port:fixed_ips:subnet_id",
    `${ADMIN_OR_NET_OWNER_MEMBER} or rule:shared or ${SERVICE}`,
    "Choose a subnet.",
    "PUT",
    PORT,
  ),
  rule(
    "update_port:port_security_enabled",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Change port security.",
    "PUT",
    PORT,
  ),
  rule("update_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a port to a host.", "PUT", PORT),
  rule("update_port:binding:profile", ADMIN_OR_SERVICE, "Change a binding profile.", "PUT", PORT),
  rule("update_port:binding:vnic_type", PROJECT_MEMBER, "Change the VNIC type.", "PUT", PORT),
  rule(
    "update_port:allowed_address_pairs",
    `${ADMIN_OR_NET_OWNER_MEMBER} or ${SERVICE}`,
    "Change allowed address pairs.",
    "PUT",
    PORT,
  ),
  rule(
    "delete_port",
    `${PROJECT_MEMBER} or ${NET_OWNER_MEMBER} or ${SERVICE}`,
    "Delete a port.",
    "DELETE",
    PORT,
  ),

  ...[
    ["get_port_binding", "Show a port's bindings.", "GET", `${PORT}/bindings`],
    ["create_port_binding", "Bind a port to one more host (inactive).", "POST", `${PORT}/bindings`],
    ["delete_port_binding", "Delete a port's binding on a host.", "DELETE", `${PORT}/bindings/{host}`],
    ["activate", "Activate a port's binding on a host.", "PUT", `${PORT}/bindings/{host}/activate`],
  ].map(([name, description, method, path]) => rule(name, ADMIN_OR_SERVICE, description, method, path)),

  rule("create_router", PROJECT_MEMBER, "Create a router.", "POST", "/v2.0/routers"),
  ...["create", "update"].flatMap((action) => {
    const [method, path] = action === "create" ? ["POST", "/v2.0/routers"] : ["PUT", ROUTER];
    return [
      rule(`${action}_router:external_gateway_info`, PROJECT_MEMBER, "Set a gateway.", method, path),
      rule(
        `${action}_router:external_gateway_info:network_id`,
        PROJECT_MEMBER,
        "Choose the gateway's network.",
        method,
        path,
      ),
      rule(`${action}_router:external_gateway_info:enable_snat`, ADMIN, "Turn SNAT on or off.", method, path),
      rule(
        `${action}_router:external_gateway_info:external_fixed_ips`,
        ADMIN,
        "Choose the gateway's addresses.",
        method,
        path,
      ),
      rule(`${action}_router:distributed`, ADMIN, "Set distributed.", method, path),
      rule(`${action}_router:ha`, ADMIN, "Set ha.", method, path),
    ];
  }),
  rule("get_router", PROJECT_READER, "Show a router.", "GET", ROUTER),
  rule("get_router:distributed", ADMIN, "See distributed.", "GET", ROUTER),
  rule("get_router:ha", ADMIN, "See ha.", "GET", ROUTER),
  rule("update_router", PROJECT_MEMBER, "Update a router.", "PUT", ROUTER),
  rule("delete_router", PROJECT_MEMBER, "Delete a router.", "DELETE", ROUTER),
  rule("add_router_interface", PROJECT_MEMBER, "Add an interface.", "PUT", `${ROUTER}/add_router_interface`),
  rule(
    "remove_router_interface",
    PROJECT_MEMBER,
    "Remove an interface.",
    "PUT",
    `${ROUTER}/remove_router_interface`,
  ),

  rule("create_floatingip", PROJECT_MEMBER, "Create a floating IP.", "POST", "/v2.0/floatingips"),
  rule(
    "create_floatingip:floating_ip_address",
    ADMIN,
    "Choose a floating IP's address.",
    "POST",
    "/v2.0/floatingips",
  ),
  rule("get_floatingip", `${PROJECT_READER} or ${SERVICE}`, "Show a floating IP.", "GET", FIP),
  rule("update_floatingip", PROJECT_MEMBER, "Associate or update a floating IP.", "PUT", FIP),
  rule("delete_floatingip", PROJECT_MEMBER, "Delete a floating IP.", "DELETE", FIP),
  rule("create_floatingip_port_forwarding", PROJECT_MEMBER, "Create a port forwarding.", "POST", PF),
  rule("get_floatingip_port_forwarding", PROJECT_READER, "Show port forwardings.", "GET", PF),
  rule("update_floatingip_port_forwarding", PROJECT_MEMBER, "Update a port forwarding.", "PUT", `${PF}/{id}`),
  rule(
    "delete_floatingip_port_forwarding",
    PROJECT_MEMBER,
    "Delete a port forwarding.",
    "DELETE",
    `${PF}/{id}`,
  ),

  rule("create_security_group", PROJECT_MEMBER, "Create a security group.", "POST", "/v2.0/security-groups"),
  rule(
    "get_security_group",
    `${PROJECT_READER} or rule:shared`,
    "Show a security group (also one shared with the caller's project).",
    "GET",
    SG,
  ),
  rule("update_security_group", PROJECT_MEMBER, "Update a security group.", "PUT", SG),
  rule("delete_security_group", PROJECT_MEMBER, "Delete a security group.", "DELETE", SG),
  rule(
    "create_security_group_rule",
    `${PROJECT_MEMBER} or ${SG_OWNER_MEMBER}`,
    "Create a security group rule.",
    "POST",
    "/v2.0/security-group-rules",
  ),
  rule(
    "get_security_group_rule",
    `${PROJECT_READER} or ${SG_OWNER_READER}`,
    "Show a security group rule.",
    "GET",
    SGR,
  ),
  rule(
    "delete_security_group_rule",
    `${PROJECT_MEMBER} or ${SG_OWNER_MEMBER}`,
    "Delete a security group rule.",
    "DELETE",
    SGR,
  ),

  rule("create_rbac_policy", PROJECT_MEMBER, "Create an RBAC policy.", "POST", "/v2.0/rbac-policies"),
  rule(
    "create_rbac_policy:target_tenant",
    `${ADMIN} or not rule:rbac_wildcard`,
    "Target every project (*).",
    "POST",
    "/v2.0/rbac-policies",
  ),
  rule("get_rbac_policy", PROJECT_READER, "Show an RBAC policy.", "GET", RBAC),
  rule("update_rbac_policy", PROJECT_MEMBER, "Update an RBAC policy.", "PUT", RBAC),
  rule(
    "update_rbac_policy:target_tenant",
    `${ADMIN} or not rule:rbac_wildcard`,
    "Target every project (*).",
    "PUT",
    RBAC,
  ),
  rule("delete_rbac_policy", PROJECT_MEMBER, "Delete an RBAC policy.", "DELETE", RBAC),

  rule("get_quota", PROJECT_READER, "Show a project's network quotas.", "GET", "/v2.0/quotas/{project_id}"),
  rule("update_quota", ADMIN, "Change a project's network quotas.", "PUT", "/v2.0/quotas/{project_id}"),
  rule("delete_quota", ADMIN, "Reset a project's network quotas.", "DELETE", "/v2.0/quotas/{project_id}"),
  rule("get_quotas", READER_ALL, "List every project's non-default quotas.", "GET", "/v2.0/quotas"),

  rule(
    "get_availability_zone",
    "rule:regular_user",
    "List availability zones.",
    "GET",
    "/v2.0/availability_zones",
  ),
  rule("get_agent", READER_ALL, "Show agents.", "GET", "/v2.0/agents"),
  rule("update_agent", ADMIN, "Update an agent.", "PUT", "/v2.0/agents/{id}"),
  rule("delete_agent", ADMIN, "Delete an agent.", "DELETE", "/v2.0/agents/{id}"),
  rule(
    "get_network_ip_availability",
    READER_ALL,
    "Show IP availability of networks.",
    "GET",
    "/v2.0/network-ip-availabilities",
  ),
  rule("get_extension", "rule:regular_user", "List the API extensions.", "GET", "/v2.0/extensions"),
];

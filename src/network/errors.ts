// Neutron's errors: {"NeutronError": {"type", "message", "detail"}} with the exception class name as the type
// (NetworkNotFound, IpAddressAlreadyAllocated, OverQuota, ...), so clients that match on the type keep working.
import { ApiError } from "../shared/http/errors.js";
import { neutronError, type FormattedError } from "../shared/http/error-formats.js";

/** Render an error as Neutron does. */
export function formatNetworkError(err: ApiError): FormattedError {
  return neutronError(err);
}

/** An error with Neutron's exception type name. */
export const nerr = (status: number, type: string, message: string): ApiError =>
  new ApiError(status, message, { type });

/** 400 InvalidInput: "Invalid input for operation: ...". */
export const invalidInput = (msg: string): ApiError =>
  nerr(400, "InvalidInput", `Invalid input for operation: ${msg}.`);

/** 400 from the API layer's attribute checks (webob's HTTPBadRequest). */
export const badRequest = (msg: string): ApiError => nerr(400, "HTTPBadRequest", msg);

/** 400 "Invalid input for ATTR. Reason: REASON." (an attribute's validator refused the value). */
export const invalidAttr = (attr: string, reason: string): ApiError =>
  badRequest(`Invalid input for ${attr}. Reason: ${reason}.`);

/** 409 Conflict with a type. */
export const conflict = (type: string, msg: string): ApiError => nerr(409, type, msg);

/** 404 for a resource kind ("Network", "Port", ...): "<Kind> <id> could not be found.". */
export function notFound(kind: NotFoundKind, id: string): ApiError {
  const [type, message] = NOT_FOUND.get(kind) ?? ["HTTPNotFound", "%s could not be found."];
  return nerr(404, type, message.replace("%s", id));
}

/** The resource kinds with their own NotFound type. */
export type NotFoundKind =
  | "network"
  | "subnet"
  | "port"
  | "subnetpool"
  | "rbac_policy"
  | "agent"
  | "security_group"
  | "extension"
  | "availability_zone"
  | "router"
  | "floatingip"
  | "port_forwarding";

const NOT_FOUND = new Map<NotFoundKind, [string, string]>([
  ["network", ["NetworkNotFound", "Network %s could not be found."]],
  ["subnet", ["SubnetNotFound", "Subnet %s could not be found."]],
  ["port", ["PortNotFound", "Port %s could not be found."]],
  ["subnetpool", ["SubnetPoolNotFound", "Subnet pool %s could not be found."]],
  ["rbac_policy", ["RbacPolicyNotFound", "RBAC policy with ID %s not found."]],
  ["agent", ["AgentNotFound", "Agent %s could not be found."]],
  ["security_group", ["SecurityGroupNotFound", "Security group %s does not exist."]],
  ["extension", ["HTTPNotFound", "Extension with alias %s does not exist."]],
  ["availability_zone", ["AvailabilityZoneNotFound", "AvailabilityZone %s could not be found."]],
  ["router", ["RouterNotFound", "Router %s could not be found"]],
  ["floatingip", ["FloatingIPNotFound", "Floating IP %s could not be found"]],
  ["port_forwarding", ["PortForwardingNotFound", "Port Forwarding %s could not be found."]],
]);

/** 409 OverQuota: "Quota exceeded for resources: ['port']." */
export const overQuota = (resources: string[]): ApiError =>
  conflict("OverQuota", `Quota exceeded for resources: [${resources.map((r) => `'${r}'`).join(", ")}].`);

/** 403 as Neutron's policy layer answers: "rule:NAME is disallowed by policy". */
export const policyForbidden = (rule: string): ApiError =>
  nerr(403, "PolicyNotAuthorized", `rule:${rule} is disallowed by policy`);

// Cinder's capabilities filter, for the capabilities a Stratus pool reports: a volume type's unscoped (or
// `capabilities:`-scoped) extra specs naming one of them must match the pool's value. Other keys are left to the
// backends (Cinder would refuse a pool that lacks the capability; Stratus ignores keys no pool reports).
import type { PoolStats } from "./drivers/types.js";

/** The vendor name Stratus's pools report (get_pools, capabilities). */
export const VENDOR_NAME = "Stratus";

/** The capabilities of a pool a type's extra specs can select on, by name. */
export function poolCapabilities(st: PoolStats, backend: string): Map<string, string | boolean> {
  return new Map<string, string | boolean>([
    ["volume_backend_name", backend],
    ["vendor_name", VENDOR_NAME],
    ["storage_protocol", st.protocols.join("/")],
    ["thin_provisioning_support", st.thinProvisioning],
    ["thick_provisioning_support", !st.thinProvisioning],
    ["multiattach", true],
  ]);
}

/** Whether one requirement (Cinder's extra spec operators: <is>, <in>, <or>, ==, or plain equality) holds. */
function satisfies(key: string, cap: string | boolean, req: string): boolean {
  const r = req.trim();
  const isBool = /^<is>\s*(.*)$/i.exec(r);
  if (isBool) return String(cap).toLowerCase() === isBool[1].trim().toLowerCase();
  const values = key === "storage_protocol" ? String(cap).toLowerCase().split("/") : [String(cap)];
  const norm = (x: string) => (key === "storage_protocol" ? x.toLowerCase() : x);
  const inOp = /^<in>\s*(.*)$/i.exec(r);
  if (inOp) return values.some((v) => v.includes(norm(inOp[1].trim())));
  if (r.startsWith("<or>"))
    return r
      .split("<or>")
      .map((x) => norm(x.trim()))
      .filter(Boolean)
      .some((x) => values.includes(x));
  const eq = /^(?:==|s==)\s*(.*)$/.exec(r);
  return values.includes(norm(eq ? eq[1].trim() : r));
}

/** Whether a pool's capabilities satisfy a volume type's extra specs. */
export function capabilitiesMatch(
  specs: ReadonlyMap<string, string>,
  caps: ReadonlyMap<string, string | boolean>,
): boolean {
  for (const [k, req] of specs) {
    const parts = k.split(":");
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== "capabilities")) continue;
    const name = parts[parts.length - 1];
    const cap = caps.get(name);
    if (cap === undefined) continue;
    if (!satisfies(name, cap, req)) return false;
  }
  return true;
}

// Which kernel objects belong to which cloud. Every namespace a cloud's linux driver creates starts with a prefix
// derived from its data directory (`s<8 hex>-`), its firewall objects carry a tag derived from it too, so two clouds (or two test runs) on one machine never collide and
// a cloud's cleanup never touches another's; its bridges and taps are named after resource ids (UUIDs) and listed
// in its inventory (inventory.ts). dnsmasq drops to `nobody`, so the state directory must be traversable by
// others: the data directory's `network/` when it is, else `/run/stratus-<id>` (namespaces do not outlive a
// reboot either).
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** A cloud's data-plane identity on this machine. */
export interface CloudNetIdentity {
  /** Prefix of every namespace the cloud creates (`s<8 hex>-`). */
  prefix: string;
  /** Directory of dnsmasq files and the driver's inventory. */
  stateDir: string;
  /** The namespace of the cloud's public (external) network. */
  publicNetns: string;
  /** Tag of the cloud's firewall chains, sets and bridge table (firewall-names.ts). */
  firewallTag: string;
}

/** Whether every directory on the way to `dir` (that exists) lets others through. */
function traversable(dir: string): boolean {
  for (let d = resolve(dir); d !== dirname(d); d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: it will be made 0755
    }
  }
  return true;
}

/** The identity of the cloud whose data directory is `dataDir`. */
export function cloudNetIdentity(dataDir: string): CloudNetIdentity {
  const id = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 8);
  const prefix = `s${id}-`;
  const own = join(resolve(dataDir), "network");
  return {
    prefix,
    stateDir: traversable(own) ? own : `/run/stratus-${id}`,
    publicNetns: publicNamespace(prefix),
    firewallTag: id.slice(0, 6),
  };
}

/** The public network's namespace of a cloud's prefix. */
export const publicNamespace = (prefix: string): string => `${prefix}public`;

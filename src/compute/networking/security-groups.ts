// Server create's `security_groups`, resolved as Nova's API does against Neutron (_process_security_groups): each
// entry is a name or an id of a group the caller's project can use; an unknown one is a 400, a name several groups
// share a 409. The implicit `default` alone is left to the network service, which gives new ports the project's
// default group itself.
import { badRequest, conflict } from "../errors.js";
import { NetworkRefused, type NetworkClient } from "../network-client.js";
import type { NicCaller } from "./requested.js";

/** A requested group as the instance records it: its name (shown in server show) and, once resolved, its id. */
export interface RequestedGroup {
  name: string;
  id?: string;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Resolve the requested groups (names or ids) in the caller's project; without networking only `default` exists. */
export async function resolveSecurityGroups(
  net: NetworkClient | undefined,
  requested: string[],
  caller: NicCaller,
): Promise<RequestedGroup[]> {
  const unique = [...new Set(requested)];
  if (unique.length === 1 && unique[0] === "default") return [{ name: "default" }];
  if (!net) {
    const bad = unique.find((n) => n !== "default");
    if (bad !== undefined) throw badRequest(`Unable to find security_group with name or id '${bad}'`);
    return [{ name: "default" }];
  }
  const as = { token: caller.token };
  const project = encodeURIComponent(caller.projectId);
  const out: RequestedGroup[] = [];
  for (const ref of unique) {
    if (UUID.test(ref)) {
      const byId = await net.showSecurityGroup(ref, as).catch((e: unknown) => {
        if (e instanceof NetworkRefused && e.status === 404) return null;
        throw e;
      });
      if (byId) {
        out.push({ name: byId.name, id: byId.id });
        continue;
      }
    }
    const named = await net.listSecurityGroups(`name=${encodeURIComponent(ref)}&project_id=${project}`, as);
    if (named.length === 0) throw badRequest(`Unable to find security_group with name or id '${ref}'`);
    if (named.length > 1)
      throw conflict(
        `Multiple security_group matches found for name '${ref}', use an ID to be more specific.`,
      );
    out.push({ name: named[0].name, id: named[0].id });
  }
  return out;
}

/** The group ids a new port of the instance gets, or undefined to let the network service apply `default`. */
export function portSecurityGroups(groups: RequestedGroup[]): string[] | undefined {
  const ids = groups.flatMap((g) => (g.id ? [g.id] : []));
  return ids.length ? ids : undefined;
}

// Whether the session may administer the cloud: the admin role, then an admin-only read, cached for the token (the
// shell's Admin navigation and the admin pages' guard use it).
import { useQuery } from "@tanstack/react-query";
import { probeAdmin } from "../api/admin-probe.js";
import { useSession } from "./session.js";

/** true/false once known, undefined while the probe runs (false at once without the admin role). */
export function useIsAdmin(): boolean | undefined {
  const { session, api } = useSession();
  const hasRole = !!session?.roles.includes("admin");
  const probe = useQuery({
    queryKey: ["admin-probe", session?.token],
    queryFn: () => probeAdmin(api!),
    enabled: hasRole && !!api,
    staleTime: Infinity,
    retry: false,
  });
  if (!hasRole) return false;
  return probe.isError ? false : probe.data;
}

// Whether the session may administer the cloud (the admin role, then an admin-only read, cached for the token), and
// the admin calls of the session.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { adminComputeCalls } from "../api/admin-compute.js";
import { adminIdentityCalls } from "../api/admin-identity.js";
import { adminResourceCalls } from "../api/admin-resources.js";
import { probeAdmin } from "../api/admin-probe.js";
import { useApi, useSession } from "./session.js";

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

/** The admin calls of the session (compute, identity, quotas and all-project lists). */
export function useAdminCalls() {
  const { api } = useApi();
  return useMemo(
    () => ({
      ac: adminComputeCalls(api),
      ai: adminIdentityCalls(api),
      ar: adminResourceCalls(api),
    }),
    [api],
  );
}

// Every project's instances (all_tenants): project, host, status, flavor and addresses, with a filter.
import { useQuery } from "@tanstack/react-query";
import type { AdminServer } from "../../../api/admin-compute.js";
import { changing, StatusLabel } from "../../status.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useProjects } from "./common.js";

const ips = (s: AdminServer) => Object.values(s.addresses ?? {}).flatMap((l) => l.map((a) => a.addr));

/** The All Instances page's content. */
function AllInstancesContent() {
  const { ac } = useAdminCalls();
  const projects = useProjects();
  const servers = useQuery({
    queryKey: ["admin", "servers"],
    queryFn: ac.allServers,
    refetchInterval: (q) =>
      (q.state.data ?? []).some((s) => changing(s.status, s["OS-EXT-STS:task_state"])) ? 2000 : 10_000,
  });
  return (
    <>
      <PageTitle title="All Instances" />
      <ResourceTable<AdminServer>
        label="instances of every project"
        rows={servers.data}
        loading={servers.isLoading}
        error={servers.error}
        rowKey={(s) => s.id}
        filterText={(s) =>
          `${s.name} ${s.status} ${projects.name(s.tenant_id)} ${s["OS-EXT-SRV-ATTR:host"] ?? ""} ${ips(s).join(" ")} ${s.flavor?.original_name ?? ""}`
        }
        empty="No project has an instance."
        columns={[
          { title: "Project", cell: (s) => projects.name(s.tenant_id) },
          { title: "Host", cell: (s) => s["OS-EXT-SRV-ATTR:host"] ?? "-" },
          { title: "Name", cell: (s) => s.name },
          {
            title: "Status",
            cell: (s) => <StatusLabel status={s.status} task={s["OS-EXT-STS:task_state"]} />,
          },
          { title: "Flavor", cell: (s) => s.flavor?.original_name ?? "-" },
          { title: "IP Address", cell: (s) => ips(s).join(", ") || "-" },
        ]}
      />
    </>
  );
}

/** The All Instances page. */
export default adminPage(AllInstancesContent);

// Every project's networks (an admin's network list holds them all): project, subnets, shared and external flags.
import { useQuery } from "@tanstack/react-query";
import type { Network } from "../../../api/resources.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useProjects } from "./common.js";

/** The All Networks page's content. */
function AllNetworksContent() {
  const { ar } = useAdminCalls();
  const projects = useProjects();
  const networks = useQuery({ queryKey: ["admin", "networks"], queryFn: ar.allNetworks });
  const yes = (b: boolean | undefined) => (b ? "Yes" : "No");
  return (
    <>
      <PageTitle title="All Networks" />
      <ResourceTable<Network>
        label="networks of every project"
        rows={networks.data}
        loading={networks.isLoading}
        error={networks.error}
        rowKey={(n) => n.id}
        filterText={(n) => `${n.name} ${n.id} ${n.status} ${projects.name(n.project_id)}`}
        empty="No project has a network."
        columns={[
          { title: "Project", cell: (n) => projects.name(n.project_id) },
          { title: "Name", cell: (n) => n.name || n.id },
          { title: "Subnets", cell: (n) => n.subnets.length },
          { title: "Shared", cell: (n) => yes(n.shared) },
          { title: "External", cell: (n) => yes(n["router:external"]) },
          { title: "Status", cell: (n) => n.status },
        ]}
      />
    </>
  );
}

/** The All Networks page. */
export default adminPage(AllNetworksContent);

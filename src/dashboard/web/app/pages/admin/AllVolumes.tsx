// Every project's volumes (all_tenants): project, host, size, status, type and attachments.
import { useQuery } from "@tanstack/react-query";
import type { AdminVolume } from "../../../api/admin-resources.js";
import { gib, pollWhileChanging, VolumeStatus } from "../../volume-status.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useProjects } from "./common.js";

/** The All Volumes page's content. */
function AllVolumesContent() {
  const { ar } = useAdminCalls();
  const projects = useProjects();
  const volumes = useQuery({
    queryKey: ["admin", "volumes"],
    queryFn: ar.allVolumes,
    refetchInterval: (q) => pollWhileChanging(q.state.data),
  });
  const project = (v: AdminVolume) => projects.name(v["os-vol-tenant-attr:tenant_id"]);
  return (
    <>
      <PageTitle title="All Volumes" />
      <ResourceTable<AdminVolume>
        label="volumes of every project"
        rows={volumes.data}
        loading={volumes.isLoading}
        error={volumes.error}
        rowKey={(v) => v.id}
        filterText={(v) => `${v.name ?? ""} ${v.id} ${v.status} ${project(v)} ${v.volume_type ?? ""}`}
        empty="No project has a volume."
        columns={[
          { title: "Project", cell: project },
          { title: "Host", cell: (v) => v["os-vol-host-attr:host"] ?? "-" },
          { title: "Name", cell: (v) => v.name || v.id },
          { title: "Size", cell: (v) => gib(v.size) },
          { title: "Status", cell: (v) => <VolumeStatus status={v.status} /> },
          { title: "Type", cell: (v) => v.volume_type ?? "-" },
          { title: "Attached to", cell: (v) => v.attachments.map((a) => a.server_id).join(", ") || "-" },
        ]}
      />
    </>
  );
}

/** The All Volumes page. */
export default adminPage(AllVolumesContent);

// Hypervisors: every compute node with its state and the vCPUs, RAM and disk in use.
import { useQuery } from "@tanstack/react-query";
import type { Hypervisor } from "../../../api/admin-compute.js";
import { Label } from "../../pf.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, UsageBar, useAdminCalls } from "./common.js";

/** The Hypervisors page's content. */
function HypervisorsContent() {
  const { ac } = useAdminCalls();
  const hv = useQuery({
    queryKey: ["admin", "hypervisors"],
    queryFn: ac.hypervisors,
    refetchInterval: 10_000,
  });
  return (
    <>
      <PageTitle title="Hypervisors" />
      <ResourceTable<Hypervisor>
        label="hypervisors"
        rows={hv.data}
        loading={hv.isLoading}
        error={hv.error}
        rowKey={(h) => String(h.id)}
        filterText={(h) => `${h.hypervisor_hostname} ${h.hypervisor_type} ${h.state} ${h.status}`}
        empty="No compute node has registered."
        columns={[
          { title: "Hostname", cell: (h) => h.hypervisor_hostname },
          { title: "Type", cell: (h) => h.hypervisor_type },
          {
            title: "State",
            cell: (h) => (
              <Label isCompact color={h.state === "up" ? "green" : "red"}>
                {h.state}, {h.status}
              </Label>
            ),
          },
          {
            title: "vCPUs",
            cell: (h) => (
              <UsageBar label={`${h.hypervisor_hostname} vCPUs`} used={h.vcpus_used} total={h.vcpus} />
            ),
          },
          {
            title: "RAM",
            cell: (h) => (
              <UsageBar
                label={`${h.hypervisor_hostname} RAM`}
                used={Math.round(h.memory_mb_used / 1024)}
                total={Math.round(h.memory_mb / 1024)}
                unit=" GiB"
              />
            ),
          },
          {
            title: "Local disk",
            cell: (h) => (
              <UsageBar
                label={`${h.hypervisor_hostname} disk`}
                used={h.local_gb_used}
                total={h.local_gb}
                unit=" GiB"
              />
            ),
          },
          { title: "Instances", cell: (h) => h.running_vms },
        ]}
      />
    </>
  );
}

/** The Hypervisors page. */
export default adminPage(HypervisorsContent);

// Instances: the project's servers, refreshed while shown (faster while any is changing), with launch and row
// actions (start, stop, reboot, delete with confirmation, and the More menu of ServerActionsMenu.tsx).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Server } from "../../api/resources.js";
import { Button, Label, ToolbarItem } from "../pf.js";
import { Link } from "../router.js";
import { useApi } from "../session.js";
import { changing, StatusLabel } from "../status.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { LaunchDialog } from "./LaunchDialog.js";
import { ServerActionsMenu } from "./ServerActionsMenu.js";

/** Every fixed and floating address of a server. */
export function addresses(s: Server): string[] {
  return Object.values(s.addresses ?? {}).flatMap((list) => list.map((a) => a.addr));
}

/** The Instances page. */
export default function Instances() {
  const { r, session } = useApi();
  const qc = useQueryClient();
  const key = ["servers", session.project.id];
  const servers = useQuery({
    queryKey: key,
    queryFn: r.servers,
    // Idle lists poll every 1.5 s so that a change made elsewhere shows within 2 s (the target).
    refetchInterval: (q) =>
      (q.state.data ?? []).some((s) => changing(s.status, s["OS-EXT-STS:task_state"])) ? 1000 : 1500,
  });
  const images = useQuery({ queryKey: ["images", session.project.id], queryFn: r.images, staleTime: 30_000 });
  const imageName = new Map((images.data ?? []).map((i) => [i.id, i.name ?? i.id]));
  const [launching, setLaunching] = useState(false);
  const [deleting, setDeleting] = useState<Server | null>(null);
  const [menuError, setMenuError] = useState<unknown>(null);
  const act = useMutation({
    mutationFn: ({ id, action }: { id: string; action: "start" | "stop" | "reboot" | "delete" }) =>
      action === "delete" ? r.deleteServer(id) : r.serverAction(id, action),
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      <PageTitle title="Instances">
        <Button onClick={() => setLaunching(true)}>Launch Instance</Button>
      </PageTitle>
      {!!(act.error || menuError) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={act.error ?? menuError} title="The action failed" />
        </div>
      )}
      <ResourceTable<Server>
        label="instances"
        rows={servers.data}
        loading={servers.isLoading}
        error={servers.error}
        rowKey={(s) => s.id}
        filterText={(s) => `${s.name} ${s.status} ${addresses(s).join(" ")} ${s.flavor?.original_name ?? ""}`}
        empty="Launch an instance to see it here."
        toolbar={<ToolbarItem>{servers.isFetching ? "Refreshing..." : ""}</ToolbarItem>}
        columns={[
          {
            title: "Name",
            cell: (s) => <Link to={`/project/instances/${encodeURIComponent(s.id)}`}>{s.name}</Link>,
          },
          { title: "Image", cell: (s) => (s.image ? (imageName.get(s.image.id) ?? s.image.id) : "(volume)") },
          { title: "IP Address", cell: (s) => addresses(s).join(", ") || "-" },
          { title: "Flavor", cell: (s) => s.flavor?.original_name ?? "-" },
          { title: "Key Pair", cell: (s) => s.key_name ?? "-" },
          {
            title: "Status",
            cell: (s) => (
              <>
                <StatusLabel status={s.status} task={s["OS-EXT-STS:task_state"]} />
                {s.locked && (
                  <Label isCompact color="orange" style={{ marginLeft: ".25rem" }} data-testid="locked">
                    Locked
                  </Label>
                )}
              </>
            ),
          },
        ]}
        actions={(s) => (
          <>
            {s.status === "SHUTOFF" && (
              <Button size="sm" variant="secondary" onClick={() => act.mutate({ id: s.id, action: "start" })}>
                Start
              </Button>
            )}
            {s.status === "ACTIVE" && (
              <>
                <Button
                  size="sm"
                  variant="secondary"
                  onClick={() => act.mutate({ id: s.id, action: "stop" })}
                >
                  Stop
                </Button>
                <Button
                  size="sm"
                  variant="secondary"
                  onClick={() => act.mutate({ id: s.id, action: "reboot" })}
                >
                  Reboot
                </Button>
              </>
            )}
            <ServerActionsMenu server={s} onError={setMenuError} />
            <Button size="sm" variant="danger" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>
              Delete
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete instance?"
        body={<>The instance {deleting?.name} and its local disk are deleted. This cannot be undone.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) act.mutate({ id: deleting.id, action: "delete" });
          setDeleting(null);
        }}
      />
      {launching && (
        <LaunchDialog
          onClose={() => setLaunching(false)}
          onLaunched={() => void qc.invalidateQueries({ queryKey: key })}
        />
      )}
    </>
  );
}

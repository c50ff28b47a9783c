// Volume snapshots: list with status (polled fast while any is changing), create a volume from one, delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Snapshot } from "../../api/volumes.js";
import { Button } from "../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { gib, pollWhileChanging, VolumeStatus } from "../volume-status.js";
import { CreateVolume } from "./VolumeDialogs.js";
import { useVolumeCalls } from "../service-calls.js";

/** The Snapshots page. */
export default function Snapshots() {
  const { v, project } = useVolumeCalls();
  const qc = useQueryClient();
  const key = ["snapshots", project];
  const snaps = useQuery({
    queryKey: key,
    queryFn: v.snapshots,
    refetchInterval: (q) => pollWhileChanging(q.state.data),
  });
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const volName = new Map((volumes.data ?? []).map((x) => [x.id, x.name || x.id]));
  const [from, setFrom] = useState<Snapshot | null>(null);
  const [deleting, setDeleting] = useState<Snapshot | null>(null);
  const del = useMutation({
    mutationFn: v.deleteSnapshot,
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  const label = (s: Snapshot) => s.name || s.id;
  return (
    <>
      <PageTitle title="Volume Snapshots" />
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} title="Could not delete the snapshot" />
        </div>
      )}
      <ResourceTable<Snapshot>
        label="snapshots"
        rows={snaps.data}
        loading={snaps.isLoading}
        error={snaps.error}
        rowKey={(s) => s.id}
        filterText={(s) => `${s.name ?? ""} ${s.id} ${s.status} ${volName.get(s.volume_id) ?? ""}`}
        empty="Create a snapshot from the Volumes page."
        columns={[
          { title: "Name", cell: label },
          { title: "Status", cell: (s) => <VolumeStatus status={s.status} /> },
          { title: "Size", cell: (s) => gib(s.size) },
          { title: "Volume", cell: (s) => volName.get(s.volume_id) ?? s.volume_id },
          { title: "Created", cell: (s) => new Date(s.created_at).toLocaleString() },
        ]}
        actions={(s) =>
          s.status === "available" || s.status.startsWith("error") ? (
            <>
              {s.status === "available" && (
                <Button size="sm" onClick={() => setFrom(s)} aria-label={`Create volume from ${label(s)}`}>
                  Create Volume
                </Button>
              )}
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(s)}
                aria-label={`Delete ${label(s)}`}
              >
                Delete
              </Button>
            </>
          ) : null
        }
      />
      <Confirm
        open={!!deleting}
        title="Delete snapshot?"
        body={<>The snapshot {deleting && label(deleting)} is deleted. Volumes made from it remain.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {from && (
        <CreateVolume
          snapshot={from}
          onClose={() => setFrom(null)}
          onDone={() => void qc.invalidateQueries({ queryKey: ["volumes", project] })}
        />
      )}
    </>
  );
}

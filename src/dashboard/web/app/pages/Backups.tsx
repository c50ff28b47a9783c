// Volume Backups: the project's backups with status (polled fast while any is changing); create, restore to a new
// or an existing volume, delete with confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Backup, Restore } from "../../api/backups.js";
import { useBackupCalls } from "../action-calls.js";
import { Alert, Button, ToolbarItem } from "../pf.js";
import { Link } from "../router.js";
import { useVolumeCalls } from "../service-calls.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { gib, pollWhileChanging, VolumeStatus } from "../volume-status.js";
import { CreateBackup, RestoreBackup } from "./BackupDialogs.js";

/** The Volume Backups page. */
export default function Backups() {
  const { b, project } = useBackupCalls();
  const { v } = useVolumeCalls();
  const qc = useQueryClient();
  const key = ["backups", project];
  const backups = useQuery({
    queryKey: key,
    queryFn: b.backups,
    refetchInterval: (q) => pollWhileChanging(q.state.data),
  });
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const names = new Map((volumes.data ?? []).map((x) => [x.id, x.name || x.id]));
  const [creating, setCreating] = useState(false);
  const [restoring, setRestoring] = useState<Backup | null>(null);
  const [restored, setRestored] = useState<Restore | null>(null);
  const [deleting, setDeleting] = useState<Backup | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: key });
    void qc.invalidateQueries({ queryKey: ["volumes", project] });
  };
  const del = useMutation({ mutationFn: b.deleteBackup, onSettled: refresh });
  const label = (x: Backup) => x.name || x.id;
  return (
    <>
      <PageTitle title="Volume Backups">
        <Button onClick={() => setCreating(true)}>Create Backup</Button>
      </PageTitle>
      {(!!del.error || restored) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} />
          {restored && (
            <Alert variant="success" isInline title="Restore started" data-testid="restored">
              The backup is being restored to the volume{" "}
              <Link to="/project/volumes">{restored.volume_name || restored.volume_id}</Link>.
            </Alert>
          )}
        </div>
      )}
      <ResourceTable<Backup>
        label="backups"
        rows={backups.data}
        loading={backups.isLoading}
        error={backups.error}
        rowKey={(x) => x.id}
        filterText={(x) => `${x.name ?? ""} ${x.id} ${x.status} ${names.get(x.volume_id) ?? x.volume_id}`}
        empty="Create a backup to keep a copy of a volume off its storage."
        toolbar={<ToolbarItem>{backups.isFetching ? "Refreshing..." : ""}</ToolbarItem>}
        columns={[
          { title: "Name", cell: label },
          { title: "Status", cell: (x) => <VolumeStatus status={x.status} /> },
          { title: "Size", cell: (x) => gib(x.size) },
          { title: "Volume", cell: (x) => names.get(x.volume_id) ?? x.volume_id },
          { title: "Incremental", cell: (x) => (x.is_incremental ? "Yes" : "No") },
          { title: "Created", cell: (x) => x.created_at },
        ]}
        actions={(x) => (
          <>
            {x.status === "available" && (
              <Button size="sm" onClick={() => setRestoring(x)} aria-label={`Restore ${label(x)}`}>
                Restore
              </Button>
            )}
            {(x.status === "available" || x.status.startsWith("error")) && (
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(x)}
                aria-label={`Delete ${label(x)}`}
              >
                Delete
              </Button>
            )}
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete backup?"
        body={<>The backup {deleting && label(deleting)} is deleted for good.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {creating && <CreateBackup onClose={() => setCreating(false)} onDone={refresh} />}
      {restoring && (
        <RestoreBackup
          backup={restoring}
          onClose={() => setRestoring(null)}
          onDone={(r) => {
            setRestored(r);
            refresh();
          }}
        />
      )}
    </>
  );
}

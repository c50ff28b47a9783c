// Volumes: the project's volumes with status (polled fast while any is changing), size, type and attachments;
// create, extend, edit, attach to and detach from an instance, snapshot, upload to an image, back up and transfer
// (the Backups and Transfers pages' dialogs), delete with confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Transfer } from "../../api/backups.js";
import type { Volume } from "../../api/volumes.js";
import { Button, ToolbarItem } from "../pf.js";
import { Link } from "../router.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { gib, pollWhileChanging, VolumeStatus } from "../volume-status.js";
import {
  AttachVolume,
  CreateVolume,
  EditVolume,
  ExtendVolume,
  SnapshotVolume,
  UploadToImage,
} from "./VolumeDialogs.js";
import { useVolumeCalls } from "../service-calls.js";
import { CreateBackup } from "./BackupDialogs.js";
import { CreateTransfer, TransferKey } from "./Transfers.js";

type Dialog = "attach" | "extend" | "edit" | "snapshot" | "upload" | "backup" | "transfer";

/** The Volumes page. */
export default function Volumes() {
  const { r, session } = useApi();
  const { v, project } = useVolumeCalls();
  const qc = useQueryClient();
  const key = ["volumes", project];
  const volumes = useQuery({
    queryKey: key,
    queryFn: v.volumes,
    refetchInterval: (q) => pollWhileChanging(q.state.data),
  });
  const servers = useQuery({ queryKey: ["servers", session.project.id], queryFn: r.servers });
  const names = new Map((servers.data ?? []).map((s) => [s.id, s.name]));
  const [creating, setCreating] = useState(false);
  const [dialog, setDialog] = useState<{ kind: Dialog; volume: Volume } | null>(null);
  const [deleting, setDeleting] = useState<Volume | null>(null);
  const [detaching, setDetaching] = useState<{ server: string; volume: string; what: string } | null>(null);
  const [transferred, setTransferred] = useState<Transfer | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: key });
  const refreshAlso = (other: string) => () => {
    refresh();
    void qc.invalidateQueries({ queryKey: [other, project] });
  };
  const del = useMutation({ mutationFn: v.deleteVolume, onSettled: refresh });
  const detach = useMutation({
    mutationFn: ({ server, volume }: { server: string; volume: string }) => v.detach(server, volume),
    onSettled: refresh,
  });
  const label = (x: Volume) => x.name || x.id;
  const attachedTo = (x: Volume) =>
    x.attachments.length === 0
      ? "-"
      : x.attachments.map((a) => (
          <div key={a.attachment_id}>
            <Link to={`/project/instances/${encodeURIComponent(a.server_id)}`}>
              {names.get(a.server_id) ?? a.server_id}
            </Link>
            {a.device ? ` on ${a.device}` : ""}
          </div>
        ));
  const close = () => setDialog(null);
  const open = (kind: Dialog, volume: Volume) => () => setDialog({ kind, volume });
  /** A secondary row action opening the `kind` dialog for `volume`. */
  const action = (volume: Volume) => (kind: Dialog, text: string, aria: string) => (
    <Button size="sm" variant="secondary" onClick={open(kind, volume)} aria-label={aria}>
      {text}
    </Button>
  );
  return (
    <>
      <PageTitle title="Volumes">
        <Button onClick={() => setCreating(true)}>Create Volume</Button>
      </PageTitle>
      {(del.error || detach.error) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error ?? detach.error} />
        </div>
      )}
      <ResourceTable<Volume>
        label="volumes"
        rows={volumes.data}
        loading={volumes.isLoading}
        error={volumes.error}
        rowKey={(x) => x.id}
        filterText={(x) =>
          `${x.name ?? ""} ${x.id} ${x.status} ${x.volume_type ?? ""} ${x.attachments
            .map((a) => names.get(a.server_id) ?? a.server_id)
            .join(" ")}`
        }
        empty="Create a volume to give instances persistent block storage."
        toolbar={<ToolbarItem>{volumes.isFetching ? "Refreshing..." : ""}</ToolbarItem>}
        columns={[
          { title: "Name", cell: label },
          { title: "Status", cell: (x) => <VolumeStatus status={x.status} /> },
          { title: "Size", cell: (x) => gib(x.size) },
          { title: "Type", cell: (x) => x.volume_type ?? "-" },
          { title: "Attached To", cell: attachedTo },
          { title: "Availability Zone", cell: (x) => x.availability_zone ?? "-" },
          { title: "Bootable", cell: (x) => (x.bootable === "true" ? "Yes" : "No") },
        ]}
        actions={(x) => {
          const n = label(x);
          const ready = x.status === "available";
          const steady = ready || x.status === "in-use";
          const more = action(x);
          return (
            <>
              {ready && (
                <Button size="sm" onClick={open("attach", x)} aria-label={`Attach ${n}`}>
                  Attach
                </Button>
              )}
              {x.status === "in-use" &&
                x.attachments.map((a) => (
                  <Button
                    key={a.attachment_id}
                    size="sm"
                    variant="secondary"
                    onClick={() =>
                      setDetaching({
                        server: a.server_id,
                        volume: x.id,
                        what: `${n} from ${names.get(a.server_id) ?? a.server_id}`,
                      })
                    }
                    aria-label={`Detach ${n} from ${names.get(a.server_id) ?? a.server_id}`}
                  >
                    Detach
                  </Button>
                ))}
              {ready && more("extend", "Extend", `Extend ${n}`)}
              {more("edit", "Edit", `Edit ${n}`)}
              {steady && more("snapshot", "Snapshot", `Create snapshot of ${n}`)}
              {steady && more("upload", "Upload to image", `Upload to image from ${n}`)}
              {steady && more("backup", "Back up", `Back up ${n}`)}
              {ready && more("transfer", "Transfer", `Transfer ${n}`)}
              {(ready || x.status.startsWith("error")) && (
                <Button size="sm" variant="danger" onClick={() => setDeleting(x)} aria-label={`Delete ${n}`}>
                  Delete
                </Button>
              )}
            </>
          );
        }}
      />
      <Confirm
        open={!!deleting}
        title="Delete volume?"
        body={<>The volume {deleting && label(deleting)} and its data are deleted for good.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      <Confirm
        open={!!detaching}
        title="Detach volume?"
        body={<>Detach {detaching?.what}. Unmount it in the guest first to keep its data consistent.</>}
        action="Detach"
        onClose={() => setDetaching(null)}
        onConfirm={() => {
          if (detaching) detach.mutate(detaching);
          setDetaching(null);
        }}
      />
      {creating && <CreateVolume onClose={() => setCreating(false)} onDone={refresh} />}
      {dialog?.kind === "attach" && <AttachVolume volume={dialog.volume} onClose={close} onDone={refresh} />}
      {dialog?.kind === "extend" && <ExtendVolume volume={dialog.volume} onClose={close} onDone={refresh} />}
      {dialog?.kind === "edit" && <EditVolume volume={dialog.volume} onClose={close} onDone={refresh} />}
      {dialog?.kind === "snapshot" && (
        <SnapshotVolume volume={dialog.volume} onClose={close} onDone={refreshAlso("snapshots")} />
      )}
      {dialog?.kind === "upload" && (
        <UploadToImage volume={dialog.volume} onClose={close} onDone={refreshAlso("images")} />
      )}
      {dialog?.kind === "backup" && (
        <CreateBackup volume={dialog.volume.id} onClose={close} onDone={refreshAlso("backups")} />
      )}
      {dialog?.kind === "transfer" && (
        <CreateTransfer
          volume={dialog.volume.id}
          onClose={close}
          onDone={(t) => {
            setTransferred(t);
            refreshAlso("transfers")();
          }}
        />
      )}
      {transferred && <TransferKey t={transferred} onClose={() => setTransferred(null)} />}
    </>
  );
}

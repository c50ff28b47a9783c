// Volume Transfers: give a volume to another project. Creating a transfer shows its id and auth key once (the
// cloud never shows the key again); the receiving project accepts with both; a pending transfer can be cancelled.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Transfer } from "../../api/backups.js";
import { useBackupCalls } from "../action-calls.js";
import { Field, SaveDialog, TextField } from "../dialog.js";
import {
  Alert,
  Button,
  ClipboardCopy,
  FormSelect,
  FormSelectOption,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
} from "../pf.js";
import { useVolumeCalls } from "../service-calls.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";

/** Create a transfer of an available volume (`volume` preselects one); `onDone` gets the answer with the auth key. */
export function CreateTransfer({
  volume: preset,
  onClose,
  onDone,
}: {
  volume?: string;
  onClose(): void;
  onDone(t: Transfer): void;
}) {
  const { b } = useBackupCalls();
  const { v, project } = useVolumeCalls();
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const usable = (volumes.data ?? []).filter((x) => x.status === "available");
  const [volume, setVolume] = useState(preset ?? "");
  const [name, setName] = useState("");
  const error = volume ? undefined : "Choose an available volume.";
  const save = useMutation({
    mutationFn: () => b.createTransfer(volume, name.trim()),
    onSuccess: (t) => (onDone(t), onClose()),
  });
  return (
    <SaveDialog
      id="transfer-form"
      title="Create Transfer"
      submit="Create Transfer"
      save={save}
      errors={[error, name.length > 255 ? "At most 255 characters." : undefined]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <TextField label="Name" id="transfer-name" value={name} onChange={setName} shown={shown} />
          <Field label="Volume" id="transfer-volume" error={error} shown={shown} required>
            <FormSelect id="transfer-volume" value={volume} onChange={(_e, x) => setVolume(x)}>
              <FormSelectOption
                value=""
                label={
                  volumes.isLoading ? "Loading..." : usable.length ? "Choose a volume" : "No available volume"
                }
                isPlaceholder
              />
              {usable.map((x) => (
                <FormSelectOption key={x.id} value={x.id} label={`${x.name || x.id} (${x.size} GiB)`} />
              ))}
            </FormSelect>
          </Field>
        </>
      )}
    </SaveDialog>
  );
}

/** Accept a transfer with its id and auth key. */
function AcceptTransfer({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { b } = useBackupCalls();
  const [id, setId] = useState("");
  const [key, setKey] = useState("");
  const errors = {
    id: /^[0-9a-fA-F-]{32,36}$/.test(id.trim()) ? undefined : "Enter the transfer's id.",
    key: key.trim() && key.length <= 255 ? undefined : "Enter the auth key.",
  };
  const save = useMutation({
    mutationFn: () => b.acceptTransfer(id.trim(), key.trim()),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="accept-form"
      title="Accept Transfer"
      submit="Accept"
      save={save}
      errors={[errors.id, errors.key]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <TextField
            label="Transfer ID"
            id="accept-id"
            value={id}
            onChange={setId}
            error={errors.id}
            shown={shown}
            required
          />
          <TextField
            label="Auth key"
            id="accept-key"
            value={key}
            onChange={setKey}
            error={errors.key}
            shown={shown}
            required
          />
        </>
      )}
    </SaveDialog>
  );
}

/** The id and key of a new transfer, shown once. */
export function TransferKey({ t, onClose }: { t: Transfer; onClose(): void }) {
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="transfer-key-title">
      <ModalHeader title="Transfer created" labelId="transfer-key-title" />
      <ModalBody>
        <Alert variant="warning" isInline title="The auth key is shown only now">
          Give the id and the key to the receiving project: the cloud will not show the key again.
        </Alert>
        <p style={{ marginTop: "1rem" }}>Transfer ID</p>
        <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="transfer-id">
          {t.id}
        </ClipboardCopy>
        <p style={{ marginTop: "1rem" }}>Auth key</p>
        <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="transfer-key">
          {t.auth_key ?? ""}
        </ClipboardCopy>
      </ModalBody>
      <ModalFooter>
        <Button onClick={onClose}>Done</Button>
      </ModalFooter>
    </Modal>
  );
}

/** The Volume Transfers page. */
export default function Transfers() {
  const { b, project } = useBackupCalls();
  const { v } = useVolumeCalls();
  const qc = useQueryClient();
  const key = ["transfers", project];
  const transfers = useQuery({ queryKey: key, queryFn: b.transfers, refetchInterval: 10_000 });
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const names = new Map((volumes.data ?? []).map((x) => [x.id, x.name || x.id]));
  const [dialog, setDialog] = useState<"create" | "accept" | null>(null);
  const [created, setCreated] = useState<Transfer | null>(null);
  const [cancelling, setCancelling] = useState<Transfer | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: key });
    void qc.invalidateQueries({ queryKey: ["volumes", project] });
  };
  const cancel = useMutation({ mutationFn: b.cancelTransfer, onSettled: refresh });
  const label = (t: Transfer) => t.name || t.id;
  return (
    <>
      <PageTitle title="Volume Transfers">
        <Button onClick={() => setDialog("create")}>Create Transfer</Button>
        <Button variant="secondary" onClick={() => setDialog("accept")}>
          Accept Transfer
        </Button>
      </PageTitle>
      {!!cancel.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={cancel.error} />
        </div>
      )}
      <ResourceTable<Transfer>
        label="transfers"
        rows={transfers.data}
        loading={transfers.isLoading}
        error={transfers.error}
        rowKey={(t) => t.id}
        filterText={(t) => `${t.name ?? ""} ${t.id} ${names.get(t.volume_id) ?? t.volume_id}`}
        empty="Create a transfer to give a volume to another project."
        columns={[
          { title: "Name", cell: (t) => t.name || "-" },
          { title: "ID", cell: (t) => t.id },
          { title: "Volume", cell: (t) => names.get(t.volume_id) ?? t.volume_id },
          { title: "Created", cell: (t) => t.created_at },
        ]}
        actions={(t) => (
          <Button
            size="sm"
            variant="danger"
            onClick={() => setCancelling(t)}
            aria-label={`Cancel ${label(t)}`}
          >
            Cancel
          </Button>
        )}
      />
      <Confirm
        open={!!cancelling}
        title="Cancel transfer?"
        body={
          <>The transfer {cancelling && label(cancelling)} is cancelled; the volume stays in this project.</>
        }
        action="Cancel transfer"
        onClose={() => setCancelling(null)}
        onConfirm={() => {
          if (cancelling) cancel.mutate(cancelling.id);
          setCancelling(null);
        }}
      />
      {dialog === "create" && (
        <CreateTransfer
          onClose={() => setDialog(null)}
          onDone={(t) => {
            setCreated(t);
            refresh();
          }}
        />
      )}
      {dialog === "accept" && <AcceptTransfer onClose={() => setDialog(null)} onDone={refresh} />}
      {created && <TransferKey t={created} onClose={() => setCreated(null)} />}
    </>
  );
}

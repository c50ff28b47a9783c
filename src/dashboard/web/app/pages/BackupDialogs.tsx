// The dialogs of the Volume Backups page: create a backup of a volume (full or incremental, forced when in use),
// and restore one to a new volume or over an existing available one.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Backup, Restore } from "../../api/backups.js";
import { useBackupCalls } from "../action-calls.js";
import { Field, nameError, SaveDialog, TextField } from "../dialog.js";
import { Checkbox, FormSelect, FormSelectOption } from "../pf.js";
import { useVolumeCalls } from "../service-calls.js";

/** Create a backup of one of the project's volumes (`volume` preselects one, as the Volumes page's action does). */
export function CreateBackup({
  volume: preset,
  onClose,
  onDone,
}: {
  volume?: string;
  onClose(): void;
  onDone(): void;
}) {
  const { b } = useBackupCalls();
  const { v, project } = useVolumeCalls();
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const usable = (volumes.data ?? []).filter((x) => x.status === "available" || x.status === "in-use");
  const [volume, setVolume] = useState(preset ?? "");
  const [name, setName] = useState("");
  const [incremental, setIncremental] = useState(false);
  const errors = { volume: volume ? undefined : "Choose a volume.", name: nameError(name) };
  const chosen = usable.find((x) => x.id === volume);
  const save = useMutation({
    mutationFn: () =>
      b.createBackup({
        volume_id: volume,
        name: name.trim(),
        description: "",
        incremental,
        force: chosen?.status === "in-use",
      }),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="backup-form"
      title="Create Backup"
      submit="Create Backup"
      save={save}
      errors={[errors.volume, errors.name]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <TextField
            label="Name"
            id="backup-name"
            value={name}
            onChange={setName}
            error={errors.name}
            shown={shown}
            required
          />
          <Field label="Volume" id="backup-volume" error={errors.volume} shown={shown} required>
            <FormSelect id="backup-volume" value={volume} onChange={(_e, x) => setVolume(x)}>
              <FormSelectOption
                value=""
                label={volumes.isLoading ? "Loading..." : usable.length ? "Choose a volume" : "No volume"}
                isPlaceholder
              />
              {usable.map((x) => (
                <FormSelectOption
                  key={x.id}
                  value={x.id}
                  label={`${x.name || x.id} (${x.size} GiB${x.status === "in-use" ? ", in use" : ""})`}
                />
              ))}
            </FormSelect>
          </Field>
          <Checkbox
            id="backup-incremental"
            label="Incremental (only what changed since the last backup of the volume)"
            isChecked={incremental}
            onChange={(_e, x) => setIncremental(x)}
          />
        </>
      )}
    </SaveDialog>
  );
}

/** Restore a backup to a new volume (named) or over an available volume; `onDone` gets where it went. */
export function RestoreBackup({
  backup,
  onClose,
  onDone,
}: {
  backup: Backup;
  onClose(): void;
  onDone(r: Restore): void;
}) {
  const { b } = useBackupCalls();
  const { v, project } = useVolumeCalls();
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const targets = (volumes.data ?? []).filter((x) => x.status === "available" && x.size >= backup.size);
  const [target, setTarget] = useState("");
  const [name, setName] = useState(`${backup.name || "backup"}-restored`);
  const error = target ? undefined : nameError(name);
  const save = useMutation({
    mutationFn: () => b.restore(backup.id, target ? { volumeId: target } : { name: name.trim() }),
    onSuccess: (r) => (onDone(r), onClose()),
  });
  return (
    <SaveDialog
      id="restore-form"
      title={`Restore ${backup.name || backup.id}`}
      submit="Restore"
      save={save}
      errors={[error]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <Field label="Restore to" id="restore-target" shown={false}>
            <FormSelect id="restore-target" value={target} onChange={(_e, x) => setTarget(x)}>
              <FormSelectOption value="" label="A new volume" />
              {targets.map((x) => (
                <FormSelectOption
                  key={x.id}
                  value={x.id}
                  label={`${x.name || x.id} (${x.size} GiB, overwritten)`}
                />
              ))}
            </FormSelect>
          </Field>
          {!target && (
            <TextField
              label="New volume name"
              id="restore-name"
              value={name}
              onChange={setName}
              error={error}
              shown={shown}
              required
            />
          )}
        </>
      )}
    </SaveDialog>
  );
}

// The Volumes page's dialogs: create (empty, from an image or a snapshot), extend, edit, attach, snapshot, upload
// to an image.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { NewVolumeImage, Snapshot, Volume } from "../../api/volumes.js";
import { Checkbox, FormSelect, FormSelectOption, TextArea, TextInput } from "../pf.js";
import { useApi } from "../session.js";
import { Field, FormDialog, nameError, SaveDialog, sizeError, TextField } from "../dialog.js";
import { useVolumeCalls } from "../service-calls.js";

const GIB = 1024 ** 3;

/** What a dialog about one volume gets: the volume, and what to call when closed and when it changed it. */
type VolumeDialogProps = { volume: Volume; onClose(): void; onDone(): void };

/** The create dialog; `snapshot` preselects "from snapshot" (the Snapshots page's action). */
export function CreateVolume(props: { snapshot?: Snapshot; onClose(): void; onDone(): void }) {
  const { r, session } = useApi();
  const { v, project } = useVolumeCalls();
  const types = useQuery({ queryKey: ["volume-types", project], queryFn: v.types });
  const zones = useQuery({ queryKey: ["volume-zones", project], queryFn: v.zones });
  const images = useQuery({ queryKey: ["images", session.project.id], queryFn: r.images });
  const snaps = useQuery({ queryKey: ["snapshots", project], queryFn: v.snapshots });
  const [name, setName] = useState(props.snapshot ? `${props.snapshot.name ?? "snapshot"}-volume` : "");
  const [description, setDescription] = useState("");
  const [source, setSource] = useState<"none" | "image" | "snapshot">(props.snapshot ? "snapshot" : "none");
  const [image, setImage] = useState("");
  const [snapshot, setSnapshot] = useState(props.snapshot?.id ?? "");
  const [size, setSize] = useState(String(props.snapshot?.size ?? 1));
  const [type, setType] = useState("");
  const [zone, setZone] = useState("");
  const [shown, setShown] = useState(false);
  const usableImages = (images.data ?? []).filter((i) => i.status === "active");
  const img = usableImages.find((i) => i.id === image);
  const snap = (snaps.data ?? []).find((s) => s.id === snapshot);
  const min =
    source === "image" && img?.size
      ? Math.ceil(img.size / GIB)
      : source === "snapshot" && snap
        ? snap.size
        : 1;
  const errors = {
    name: name.length > 255 ? "At most 255 characters." : undefined,
    image: source === "image" && !image ? "Choose an image." : undefined,
    snapshot: source === "snapshot" && !snapshot ? "Choose a snapshot." : undefined,
    size: sizeError(size, min),
  };
  const save = useMutation({
    mutationFn: () =>
      v.createVolume({
        name: name.trim(),
        description,
        size: Number(size),
        volume_type: type || undefined,
        availability_zone: zone || undefined,
        imageRef: source === "image" ? image : undefined,
        snapshot_id: source === "snapshot" ? snapshot : undefined,
      }),
    onSuccess: () => (props.onDone(), props.onClose()),
  });
  return (
    <FormDialog
      id="volume-form"
      title="Create Volume"
      submit="Create Volume"
      busy={save.isPending}
      error={save.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if (!Object.values(errors).some(Boolean)) save.mutate();
      }}
    >
      <Field label="Name" id="volume-name" error={errors.name} shown={shown}>
        <TextInput id="volume-name" value={name} onChange={(_e, x) => setName(x)} />
      </Field>
      <Field label="Description" id="volume-description" shown={shown}>
        <TextArea
          id="volume-description"
          value={description}
          onChange={(_e, x) => setDescription(x)}
          rows={2}
        />
      </Field>
      <Field label="Source" id="volume-source" shown={shown}>
        <FormSelect id="volume-source" value={source} onChange={(_e, x) => setSource(x as typeof source)}>
          <FormSelectOption value="none" label="No source, empty volume" />
          <FormSelectOption value="image" label="Image" />
          <FormSelectOption value="snapshot" label="Snapshot" />
        </FormSelect>
      </Field>
      {source === "image" && (
        <Field label="Image" id="volume-image" error={errors.image} shown={shown} required>
          <FormSelect
            id="volume-image"
            value={image}
            onChange={(_e, x) => setImage(x)}
            validated={shown && errors.image ? "error" : "default"}
          >
            <FormSelectOption value="" label="Choose an image" isPlaceholder />
            {usableImages.map((i) => (
              <FormSelectOption key={i.id} value={i.id} label={i.name ?? i.id} />
            ))}
          </FormSelect>
        </Field>
      )}
      {source === "snapshot" && (
        <Field label="Snapshot" id="volume-snapshot" error={errors.snapshot} shown={shown} required>
          <FormSelect
            id="volume-snapshot"
            value={snapshot}
            onChange={(_e, x) => setSnapshot(x)}
            validated={shown && errors.snapshot ? "error" : "default"}
          >
            <FormSelectOption value="" label="Choose a snapshot" isPlaceholder />
            {(snaps.data ?? [])
              .filter((s) => s.status === "available")
              .map((s) => (
                <FormSelectOption key={s.id} value={s.id} label={`${s.name ?? s.id} (${s.size} GiB)`} />
              ))}
          </FormSelect>
        </Field>
      )}
      <Field label="Size (GiB)" id="volume-size" error={errors.size} shown={shown} required>
        <TextInput
          id="volume-size"
          type="number"
          value={size}
          onChange={(_e, x) => setSize(x)}
          validated={shown && errors.size ? "error" : "default"}
        />
      </Field>
      <Field label="Type" id="volume-type" shown={shown}>
        <FormSelect id="volume-type" value={type} onChange={(_e, x) => setType(x)}>
          <FormSelectOption value="" label="Default type" />
          {(types.data ?? []).map((t) => (
            <FormSelectOption key={t.id} value={t.name} label={t.name} />
          ))}
        </FormSelect>
      </Field>
      <Field label="Availability zone" id="volume-zone" shown={shown}>
        <FormSelect id="volume-zone" value={zone} onChange={(_e, x) => setZone(x)}>
          <FormSelectOption value="" label="Any availability zone" />
          {(zones.data ?? []).map((z) => (
            <FormSelectOption key={z} value={z} label={z} />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The extend dialog: a new, larger size. */
export function ExtendVolume({ volume, onClose, onDone }: VolumeDialogProps) {
  const { v } = useVolumeCalls();
  const [size, setSize] = useState(String(volume.size + 1));
  const [shown, setShown] = useState(false);
  const error = sizeError(size, volume.size + 1);
  const save = useMutation({
    mutationFn: () => v.extendVolume(volume.id, Number(size)),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="extend-form"
      title={`Extend ${volume.name || volume.id}`}
      submit="Extend"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="New size (GiB)" id="extend-size" error={error} shown={shown} required>
        <TextInput
          id="extend-size"
          type="number"
          value={size}
          onChange={(_e, x) => setSize(x)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
    </FormDialog>
  );
}

/** The edit dialog: name and description. */
export function EditVolume({ volume, onClose, onDone }: VolumeDialogProps) {
  const { v } = useVolumeCalls();
  const [name, setName] = useState(volume.name ?? "");
  const [description, setDescription] = useState(volume.description ?? "");
  const [shown, setShown] = useState(false);
  const error = name.length > 255 ? "At most 255 characters." : undefined;
  const save = useMutation({
    mutationFn: () => v.updateVolume(volume.id, name.trim(), description),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="edit-volume-form"
      title={`Edit ${volume.name || volume.id}`}
      submit="Save"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Name" id="edit-volume-name" error={error} shown={shown}>
        <TextInput id="edit-volume-name" value={name} onChange={(_e, x) => setName(x)} />
      </Field>
      <Field label="Description" id="edit-volume-description" shown={shown}>
        <TextArea
          id="edit-volume-description"
          value={description}
          onChange={(_e, x) => setDescription(x)}
          rows={2}
        />
      </Field>
    </FormDialog>
  );
}

/** The attach dialog: choose an instance (Nova attaches the volume). */
export function AttachVolume({ volume, onClose, onDone }: VolumeDialogProps) {
  const { r, session } = useApi();
  const { v } = useVolumeCalls();
  const servers = useQuery({ queryKey: ["servers", session.project.id], queryFn: r.servers });
  const usable = (servers.data ?? []).filter((s) => s.status === "ACTIVE" || s.status === "SHUTOFF");
  const [server, setServer] = useState("");
  const [shown, setShown] = useState(false);
  const error = server ? undefined : "Choose the instance to attach to.";
  const save = useMutation({
    mutationFn: () => v.attach(server, volume.id),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="attach-form"
      title={`Attach ${volume.name || volume.id}`}
      submit="Attach"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Instance" id="attach-server" error={error} shown={shown} required>
        <FormSelect
          id="attach-server"
          value={server}
          onChange={(_e, x) => setServer(x)}
          validated={shown && error ? "error" : "default"}
        >
          <FormSelectOption
            value=""
            label={servers.isLoading ? "Loading..." : usable.length ? "Choose an instance" : "No instance"}
            isPlaceholder
          />
          {usable.map((s) => (
            <FormSelectOption key={s.id} value={s.id} label={s.name} />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The snapshot dialog: name and description of the new snapshot. */
export function SnapshotVolume({ volume, onClose, onDone }: VolumeDialogProps) {
  const { v } = useVolumeCalls();
  const [name, setName] = useState(`${volume.name || "volume"}-snap`);
  const [description, setDescription] = useState("");
  const [shown, setShown] = useState(false);
  const error = !name.trim() ? "Enter a name." : name.length > 255 ? "At most 255 characters." : undefined;
  const save = useMutation({
    mutationFn: () => v.createSnapshot(volume.id, name.trim(), description),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="snapshot-form"
      title={`Snapshot ${volume.name || volume.id}`}
      submit="Create Snapshot"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Snapshot name" id="snapshot-name" error={error} shown={shown} required>
        <TextInput id="snapshot-name" value={name} onChange={(_e, x) => setName(x)} />
      </Field>
      <Field label="Description" id="snapshot-description" shown={shown}>
        <TextArea
          id="snapshot-description"
          value={description}
          onChange={(_e, x) => setDescription(x)}
          rows={2}
        />
      </Field>
    </FormDialog>
  );
}

/** The upload-to-image dialog: the new image's name and disk format, forced when the volume is in use. */
export function UploadToImage({ volume, onClose, onDone }: VolumeDialogProps) {
  const { v } = useVolumeCalls();
  const [name, setName] = useState(`${volume.name || "volume"}-image`);
  const [format, setFormat] = useState<NewVolumeImage["diskFormat"]>("raw");
  const [force, setForce] = useState(false);
  const error = nameError(name);
  const save = useMutation({
    mutationFn: () => v.uploadToImage(volume.id, { imageName: name.trim(), diskFormat: format, force }),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="upload-image-form"
      title={`Upload ${volume.name || volume.id} to an image`}
      submit="Upload"
      save={save}
      errors={[error]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <TextField
            label="Image name"
            id="upload-image-name"
            value={name}
            onChange={setName}
            error={error}
            shown={shown}
            required
          />
          <Field label="Disk format" id="upload-image-format" shown={shown}>
            <FormSelect
              id="upload-image-format"
              value={format}
              onChange={(_e, x) => setFormat(x === "qcow2" ? "qcow2" : "raw")}
            >
              <FormSelectOption value="raw" label="Raw" />
              <FormSelectOption value="qcow2" label="QCOW2 (converted)" />
            </FormSelect>
          </Field>
          <Checkbox
            id="upload-image-force"
            label="Force (upload while attached to an instance; the image is a point-in-time copy)"
            isChecked={force}
            onChange={(_e, x) => setForce(x)}
          />
        </>
      )}
    </SaveDialog>
  );
}

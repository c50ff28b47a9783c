// The boot source part of the Launch dialog: an image, an instance snapshot, an existing bootable volume, or a new
// volume made from an image (block_device_mapping_v2, deleted with the instance or kept); and the user data field.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Image, LaunchRequest } from "../../api/resources.js";
import { Field, sizeError } from "../dialog.js";
import { Checkbox, FormSelect, FormSelectOption, TextArea, TextInput } from "../pf.js";
import { useVolumeCalls } from "../service-calls.js";
import { useApi } from "../session.js";

/** Where an instance boots from. */
export type SourceKind = "image" | "snapshot" | "volume" | "new-volume";

const KINDS: Array<[SourceKind, string]> = [
  ["image", "Image"],
  ["snapshot", "Instance snapshot"],
  ["volume", "Volume (bootable)"],
  ["new-volume", "Image, on a new volume"],
];

/** Nova's bound on user data: 65535 bytes once base64-encoded. */
const USER_DATA_MAX = 65535;

/** User data as Nova takes it: its UTF-8 bytes in base64. */
export function encodeUserData(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Why user data is refused (over Nova's bound once encoded), or undefined. */
export function userDataError(text: string): string | undefined {
  const encoded = Math.ceil(new TextEncoder().encode(text).length / 3) * 4;
  return encoded > USER_DATA_MAX
    ? `At most ${Math.floor(USER_DATA_MAX / 4) * 3} bytes of user data.`
    : undefined;
}

/** The source fields' state, their error, and the part of the launch request they make. */
export function useLaunchSource() {
  const { r, session } = useApi();
  const { v } = useVolumeCalls();
  const pid = session.project.id;
  const images = useQuery({ queryKey: ["images", pid], queryFn: r.images });
  const volumes = useQuery({ queryKey: ["volumes", pid], queryFn: v.volumes });
  const [kind, setKind] = useState<SourceKind>("image");
  const [id, setId] = useState("");
  const [size, setSize] = useState("1");
  const [deleteOnTerminate, setDelete] = useState(true);
  const active = (images.data ?? []).filter((i) => i.status === "active");
  const isSnap = (i: Image) => i.image_type === "snapshot";
  const choices: Array<{ id: string; label: string }> =
    kind === "volume"
      ? (volumes.data ?? [])
          .filter((x) => x.status === "available" && x.bootable === "true")
          .map((x) => ({ id: x.id, label: `${x.name || x.id} (${x.size} GiB)` }))
      : active
          .filter((i) => (kind === "snapshot" ? isSnap(i) : !isSnap(i)))
          .map((i) => ({ id: i.id, label: i.name ?? i.id }));
  const what = kind === "volume" ? "a volume" : kind === "snapshot" ? "a snapshot" : "an image";
  const errors = {
    id: choices.some((c) => c.id === id) ? undefined : `Choose ${what}.`,
    size: kind === "new-volume" ? sizeError(size) : undefined,
  };
  const request = (): Pick<LaunchRequest, "imageRef" | "block_device_mapping_v2"> => {
    if (kind === "image" || kind === "snapshot") return { imageRef: id };
    const bdm = {
      boot_index: 0,
      uuid: id,
      destination_type: "volume" as const,
      delete_on_termination: deleteOnTerminate,
    };
    return {
      block_device_mapping_v2: [
        kind === "volume"
          ? { ...bdm, source_type: "volume" }
          : { ...bdm, source_type: "image", volume_size: Number(size) },
      ],
    };
  };
  const loading = kind === "volume" ? volumes.isLoading : images.isLoading;
  const fields = (shown: boolean) => (
    <>
      <Field label="Boot source" id="launch-source" shown={shown}>
        <FormSelect
          id="launch-source"
          value={kind}
          onChange={(_e, x) => (setKind(x as SourceKind), setId(""))}
        >
          {KINDS.map(([k, l]) => (
            <FormSelectOption key={k} value={k} label={l} />
          ))}
        </FormSelect>
      </Field>
      <Field
        label={KINDS.find(([k]) => k === kind)![1]}
        id="launch-image"
        error={errors.id}
        shown={shown}
        required
      >
        <FormSelect
          id="launch-image"
          value={id}
          onChange={(_e, x) => setId(x)}
          validated={shown && errors.id ? "error" : "default"}
        >
          <FormSelectOption
            value=""
            label={
              loading ? "Loading..." : choices.length ? `Choose ${what}` : `No ${what.replace(/^an? /, "")}`
            }
            isPlaceholder
          />
          {choices.map((c) => (
            <FormSelectOption key={c.id} value={c.id} label={c.label} />
          ))}
        </FormSelect>
      </Field>
      {kind === "new-volume" && (
        <Field label="Volume size (GiB)" id="launch-volume-size" error={errors.size} shown={shown} required>
          <TextInput
            id="launch-volume-size"
            value={size}
            onChange={(_e, x) => setSize(x)}
            validated={shown && errors.size ? "error" : "default"}
          />
        </Field>
      )}
      {(kind === "volume" || kind === "new-volume") && (
        <Checkbox
          id="launch-delete-volume"
          label="Delete the volume when the instance is deleted"
          isChecked={deleteOnTerminate}
          onChange={(_e, x) => setDelete(x)}
        />
      )}
    </>
  );
  return { errors, request, fields };
}

/** The user data field (a cloud-init script or cloud-config), with its bound. */
export function UserDataField(props: { value: string; onChange(v: string): void; shown: boolean }) {
  const error = userDataError(props.value);
  return (
    <Field label="User data (optional)" id="launch-user-data" error={error} shown={props.shown}>
      <TextArea
        id="launch-user-data"
        value={props.value}
        onChange={(_e, x) => props.onChange(x)}
        resizeOrientation="vertical"
        rows={3}
        validated={props.shown && error ? "error" : "default"}
      />
    </Field>
  );
}

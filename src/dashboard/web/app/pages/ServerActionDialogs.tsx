// The instance actions that take input: resize (flavor), snapshot (image name), rebuild (image) and rescue (the
// rescue password Nova generates is shown once).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Server } from "../../api/resources.js";
import { useServerActionCalls } from "../action-calls.js";
import { Field, nameError, SaveDialog, TextField } from "../dialog.js";
import { ClipboardCopy, FormSelect, FormSelectOption } from "../pf.js";
import { useApi } from "../session.js";

/** What each dialog gets. */
interface Props {
  server: Server;
  onClose(): void;
  onDone(): void;
}

/** A select with a placeholder first (value ""), then `options` as [value, label]. */
function Choice(p: {
  id: string;
  value: string;
  onChange(v: string): void;
  placeholder: string;
  options: Array<[string, string]>;
}) {
  return (
    <FormSelect id={p.id} value={p.value} onChange={(_e, x) => p.onChange(x)}>
      <FormSelectOption value="" label={p.placeholder} isPlaceholder />
      {p.options.map(([v, l]) => (
        <FormSelectOption key={v} value={v} label={l} />
      ))}
    </FormSelect>
  );
}

/** Resize to another flavor (the server then waits in VERIFY_RESIZE for confirm or revert). */
export function ResizeDialog({ server, onClose, onDone }: Props) {
  const { r } = useApi();
  const { sa } = useServerActionCalls();
  const flavors = useQuery({ queryKey: ["flavors"], queryFn: r.flavors, staleTime: 60_000 });
  const others = (flavors.data ?? []).filter((f) => f.name !== server.flavor?.original_name);
  const [flavor, setFlavor] = useState("");
  const error = flavor ? undefined : "Choose the new flavor.";
  const save = useMutation({
    mutationFn: () => sa.resize(server.id, flavor),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="resize-form"
      title={`Resize ${server.name}`}
      submit="Resize"
      save={save}
      errors={[error]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <p>Current flavor: {server.flavor?.original_name ?? "-"}</p>
          <Field label="New flavor" id="resize-flavor" error={error} shown={shown} required>
            <Choice
              id="resize-flavor"
              value={flavor}
              onChange={setFlavor}
              placeholder={flavors.isLoading ? "Loading..." : "Choose a flavor"}
              options={others.map((f) => [f.id, `${f.name} (${f.vcpus} vCPU, ${f.ram} MiB, ${f.disk} GiB)`])}
            />
          </Field>
        </>
      )}
    </SaveDialog>
  );
}

/** Snapshot the server to a new image. */
export function SnapshotDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const [name, setName] = useState(`${server.name}-snapshot`);
  const error = nameError(name);
  const save = useMutation({
    mutationFn: () => sa.createImage(server.id, name.trim()),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="server-snapshot-form"
      title={`Create snapshot of ${server.name}`}
      submit="Create Snapshot"
      save={save}
      errors={[error]}
      onClose={onClose}
    >
      {(shown) => (
        <TextField
          label="Snapshot name"
          id="server-snapshot-name"
          value={name}
          onChange={setName}
          error={error}
          shown={shown}
          required
        />
      )}
    </SaveDialog>
  );
}

/** The active images as select options. */
function useImageOptions(): { loading: boolean; options: Array<[string, string]> } {
  const { r, session } = useApi();
  const images = useQuery({ queryKey: ["images", session.project.id], queryFn: r.images, staleTime: 30_000 });
  return {
    loading: images.isLoading,
    options: (images.data ?? []).filter((i) => i.status === "active").map((i) => [i.id, i.name ?? i.id]),
  };
}

/** Rebuild the server from an image (its disk is replaced). */
export function RebuildDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const images = useImageOptions();
  const [image, setImage] = useState(server.image ? server.image.id : "");
  const error = image ? undefined : "Choose an image.";
  const save = useMutation({
    mutationFn: () => sa.rebuild(server.id, image),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <SaveDialog
      id="rebuild-form"
      title={`Rebuild ${server.name}`}
      submit="Rebuild"
      save={save}
      errors={[error]}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <p>The instance&apos;s disk is replaced by the image: data on it is lost.</p>
          <Field label="Image" id="rebuild-image" error={error} shown={shown} required>
            <Choice
              id="rebuild-image"
              value={image}
              onChange={setImage}
              placeholder={images.loading ? "Loading..." : "Choose an image"}
              options={images.options}
            />
          </Field>
        </>
      )}
    </SaveDialog>
  );
}

/** Rescue: boot the server from a rescue image (its own by default); shows the rescue password once. */
export function RescueDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const images = useImageOptions();
  const [image, setImage] = useState("");
  const save = useMutation({
    mutationFn: () => sa.rescue(server.id, image || undefined),
    onSuccess: onDone,
  });
  return (
    <SaveDialog
      id="rescue-form"
      title={`Rescue ${server.name}`}
      submit="Rescue"
      save={save}
      busy={save.isPending || save.isSuccess}
      onClose={onClose}
      cancel={save.isSuccess ? "Done" : "Cancel"}
      footer={
        save.data && (
          <>
            <p>Rescue password (shown once):</p>
            <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="rescue-password">
              {save.data}
            </ClipboardCopy>
          </>
        )
      }
    >
      {() => (
        <Field label="Rescue image" id="rescue-image" shown={false}>
          <Choice
            id="rescue-image"
            value={image}
            onChange={setImage}
            placeholder={images.loading ? "Loading..." : "The instance's own image"}
            options={images.options}
          />
        </Field>
      )}
    </SaveDialog>
  );
}

// The instance actions that take input: resize (flavor), snapshot (image name), rebuild (image) and rescue (the
// rescue password Nova generates is shown once).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Server } from "../../api/resources.js";
import { useServerActionCalls } from "../action-calls.js";
import { Field, FormDialog } from "../dialog.js";
import { ClipboardCopy, FormSelect, FormSelectOption, TextInput } from "../pf.js";
import { useApi } from "../session.js";

/** What each dialog gets. */
interface Props {
  server: Server;
  onClose(): void;
  onDone(): void;
}

/** Resize to another flavor (the server then waits in VERIFY_RESIZE for confirm or revert). */
export function ResizeDialog({ server, onClose, onDone }: Props) {
  const { r } = useApi();
  const { sa } = useServerActionCalls();
  const flavors = useQuery({ queryKey: ["flavors"], queryFn: r.flavors, staleTime: 60_000 });
  const others = (flavors.data ?? []).filter((f) => f.name !== server.flavor?.original_name);
  const [flavor, setFlavor] = useState("");
  const [shown, setShown] = useState(false);
  const error = flavor ? undefined : "Choose the new flavor.";
  const save = useMutation({
    mutationFn: () => sa.resize(server.id, flavor),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="resize-form"
      title={`Resize ${server.name}`}
      submit="Resize"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <p>Current flavor: {server.flavor?.original_name ?? "-"}</p>
      <Field label="New flavor" id="resize-flavor" error={error} shown={shown} required>
        <FormSelect
          id="resize-flavor"
          value={flavor}
          onChange={(_e, x) => setFlavor(x)}
          validated={shown && error ? "error" : "default"}
        >
          <FormSelectOption
            value=""
            label={flavors.isLoading ? "Loading..." : "Choose a flavor"}
            isPlaceholder
          />
          {others.map((f) => (
            <FormSelectOption
              key={f.id}
              value={f.id}
              label={`${f.name} (${f.vcpus} vCPU, ${f.ram} MiB, ${f.disk} GiB)`}
            />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** Snapshot the server to a new image. */
export function SnapshotDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const [name, setName] = useState(`${server.name}-snapshot`);
  const [shown, setShown] = useState(false);
  const error = !name.trim() ? "Enter a name." : name.length > 255 ? "At most 255 characters." : undefined;
  const save = useMutation({
    mutationFn: () => sa.createImage(server.id, name.trim()),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="server-snapshot-form"
      title={`Create snapshot of ${server.name}`}
      submit="Create Snapshot"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Snapshot name" id="server-snapshot-name" error={error} shown={shown} required>
        <TextInput
          id="server-snapshot-name"
          value={name}
          onChange={(_e, x) => setName(x)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
    </FormDialog>
  );
}

/** A select of the active images (rebuild and rescue). */
function ImageSelect(p: { id: string; value: string; onChange(v: string): void; placeholder: string }) {
  const { r, session } = useApi();
  const images = useQuery({ queryKey: ["images", session.project.id], queryFn: r.images, staleTime: 30_000 });
  return (
    <FormSelect id={p.id} value={p.value} onChange={(_e, x) => p.onChange(x)}>
      <FormSelectOption value="" label={images.isLoading ? "Loading..." : p.placeholder} isPlaceholder />
      {(images.data ?? [])
        .filter((i) => i.status === "active")
        .map((i) => (
          <FormSelectOption key={i.id} value={i.id} label={i.name ?? i.id} />
        ))}
    </FormSelect>
  );
}

/** Rebuild the server from an image (its disk is replaced). */
export function RebuildDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const [image, setImage] = useState(server.image ? server.image.id : "");
  const [shown, setShown] = useState(false);
  const error = image ? undefined : "Choose an image.";
  const save = useMutation({
    mutationFn: () => sa.rebuild(server.id, image),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="rebuild-form"
      title={`Rebuild ${server.name}`}
      submit="Rebuild"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <p>The instance&apos;s disk is replaced by the image: data on it is lost.</p>
      <Field label="Image" id="rebuild-image" error={error} shown={shown} required>
        <ImageSelect id="rebuild-image" value={image} onChange={setImage} placeholder="Choose an image" />
      </Field>
    </FormDialog>
  );
}

/** Rescue: boot the server from a rescue image (its own by default); shows the rescue password once. */
export function RescueDialog({ server, onClose, onDone }: Props) {
  const { sa } = useServerActionCalls();
  const [image, setImage] = useState("");
  const save = useMutation({
    mutationFn: () => sa.rescue(server.id, image || undefined),
    onSuccess: onDone,
  });
  return (
    <FormDialog
      id="rescue-form"
      title={`Rescue ${server.name}`}
      submit="Rescue"
      busy={save.isPending || save.isSuccess}
      error={save.error}
      onClose={onClose}
      onSubmit={() => save.mutate()}
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
      <Field label="Rescue image" id="rescue-image" shown={false}>
        <ImageSelect
          id="rescue-image"
          value={image}
          onChange={setImage}
          placeholder="The instance's own image"
        />
      </Field>
    </FormDialog>
  );
}

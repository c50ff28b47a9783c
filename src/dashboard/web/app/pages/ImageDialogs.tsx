// The dialogs of the Images page: edit an image (name, minimum disk and RAM, visibility, protection, custom
// properties as key/value rows) and share a shared image with other projects (its members: add, list, remove).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  customProperties,
  IMAGE_ATTRIBUTES,
  propertyPatch,
  type ImageRecord,
  type PatchOp,
} from "../../api/images.js";
import { Field, SaveDialog, TextField, nameError } from "../dialog.js";
import { Button, Checkbox, FormSelect, FormSelectOption, TextInput } from "../pf.js";
import { useImageCalls } from "../service-calls.js";
import { useApi } from "../session.js";
import { ErrorAlert, Loading } from "../ui.js";
import { SmallTable } from "./SmallTable.js";

/** Why a whole-number minimum is refused, or undefined. */
function minError(text: string, unit: string): string | undefined {
  return /^\d{1,9}$/.test(text.trim()) ? undefined : `A whole number of ${unit} (0 for no minimum).`;
}

/** Why the custom property rows are refused (bad, duplicate or reserved key, long value), or undefined. */
function propsError(rows: Array<[string, string]>): string | undefined {
  const seen = new Set<string>();
  if (rows.length > 128) return "At most 128 properties.";
  for (const [k, v] of rows) {
    const key = k.trim();
    if (!key || key.length > 255) return "Each property needs a key of 1 to 255 characters.";
    if (IMAGE_ATTRIBUTES.has(key) || key.startsWith("os_glance")) return `"${key}" is not a custom property.`;
    if (seen.has(key)) return `"${key}" is given twice.`;
    if (v.length > 4096) return `The value of "${key}" is over 4096 characters.`;
    seen.add(key);
  }
  return undefined;
}

/** The edit form over a loaded image record. */
function EditForm({ img, onClose, onDone }: { img: ImageRecord; onClose(): void; onDone(): void }) {
  const { im } = useImageCalls();
  const { session } = useApi();
  const [name, setName] = useState(img.name ?? "");
  const [minDisk, setMinDisk] = useState(String(img.min_disk ?? 0));
  const [minRam, setMinRam] = useState(String(img.min_ram ?? 0));
  const [visibility, setVisibility] = useState(img.visibility);
  const [prot, setProt] = useState(!!img.protected);
  const [rows, setRows] = useState<Array<[string, string]>>(() => customProperties(img));
  // Glance lets only admins make an image public (publicize_image).
  const mayPublish = session.roles.includes("admin") || img.visibility === "public";
  const errors = {
    name: nameError(name),
    disk: minError(minDisk, "GiB"),
    ram: minError(minRam, "MiB"),
    props: propsError(rows),
  };
  const save = useMutation({
    mutationFn: () => {
      const ops: PatchOp[] = [];
      const set = (path: string, before: unknown, after: unknown) => {
        if (before !== after) ops.push({ op: "replace", path, value: after });
      };
      set("/name", img.name, name.trim());
      set("/min_disk", img.min_disk, Number(minDisk));
      set("/min_ram", img.min_ram, Number(minRam));
      set("/visibility", img.visibility, visibility);
      set("/protected", img.protected, prot);
      ops.push(
        ...propertyPatch(new Map(customProperties(img)), new Map(rows.map(([k, v]) => [k.trim(), v]))),
      );
      return ops.length ? im.patch(img.id, ops) : Promise.resolve(img);
    },
    onSuccess: () => (onDone(), onClose()),
  });
  const setRow = (i: number, k: string, v: string) =>
    setRows((rs) => rs.map((r, j) => (j === i ? ([k, v] as [string, string]) : r)));
  return (
    <SaveDialog
      id="edit-image-form"
      title={`Edit Image ${img.name ?? img.id}`}
      submit="Save"
      save={save}
      errors={Object.values(errors)}
      onClose={onClose}
    >
      {(shown) => (
        <>
          <TextField
            label="Name"
            id="edit-image-name"
            value={name}
            onChange={setName}
            error={errors.name}
            shown={shown}
            required
          />
          <TextField
            label="Minimum disk (GiB)"
            id="edit-image-min-disk"
            value={minDisk}
            onChange={setMinDisk}
            error={errors.disk}
            shown={shown}
          />
          <TextField
            label="Minimum RAM (MiB)"
            id="edit-image-min-ram"
            value={minRam}
            onChange={setMinRam}
            error={errors.ram}
            shown={shown}
          />
          <Field label="Visibility" id="edit-image-visibility" shown={shown}>
            <FormSelect id="edit-image-visibility" value={visibility} onChange={(_e, v) => setVisibility(v)}>
              <FormSelectOption value="private" label="Private (this project)" />
              <FormSelectOption value="shared" label="Shared (with chosen projects)" />
              <FormSelectOption value="community" label="Community (any project may use it)" />
              {mayPublish && <FormSelectOption value="public" label="Public (listed for every project)" />}
            </FormSelect>
          </Field>
          <Checkbox
            id="edit-image-protected"
            label="Protected (cannot be deleted)"
            isChecked={prot}
            onChange={(_e, v) => setProt(v)}
          />
          <Field label="Properties" id="edit-image-props" error={errors.props} shown={shown} role="group">
            {rows.map(([k, v], i) => (
              <div key={i} style={{ display: "flex", gap: "0.5rem", marginBottom: "0.5rem" }}>
                <TextInput
                  aria-label={`Property ${i + 1} key`}
                  value={k}
                  onChange={(_e, x) => setRow(i, x, v)}
                />
                <TextInput
                  aria-label={`Property ${i + 1} value`}
                  value={v}
                  onChange={(_e, x) => setRow(i, k, x)}
                />
                <Button
                  variant="link"
                  isDanger
                  onClick={() => setRows((rs) => rs.filter((_r, j) => j !== i))}
                  aria-label={`Remove property ${k || i + 1}`}
                >
                  Remove
                </Button>
              </div>
            ))}
            <Button variant="secondary" size="sm" onClick={() => setRows((rs) => [...rs, ["", ""]])}>
              Add property
            </Button>
          </Field>
        </>
      )}
    </SaveDialog>
  );
}

/** Edit an image the project owns; loads its full record first. */
export function EditImage({ id, onClose, onDone }: { id: string; onClose(): void; onDone(): void }) {
  const { im } = useImageCalls();
  const img = useQuery({ queryKey: ["image", id], queryFn: () => im.image(id), gcTime: 0 });
  if (!img.data)
    return img.error ? (
      <ErrorAlert error={img.error} title="Could not load the image" />
    ) : (
      <Loading what="the image" />
    );
  return <EditForm img={img.data} onClose={onClose} onDone={onDone} />;
}

/** Why a project id is refused, or undefined. */
function projectError(id: string, members: string[]): string | undefined {
  const v = id.trim();
  if (!/^[0-9a-zA-Z_-]{1,64}$/.test(v)) return "Enter a project ID (letters, digits, '-' or '_').";
  return members.includes(v) ? "The image is already shared with this project." : undefined;
}

/** Share a shared image with projects: its members, add one by project ID, remove one. */
export function ShareImage({ id, name, onClose }: { id: string; name: string; onClose(): void }) {
  const { im } = useImageCalls();
  const qc = useQueryClient();
  const key = ["image-members", id];
  const members = useQuery({ queryKey: key, queryFn: () => im.members(id) });
  const [project, setProject] = useState("");
  const refresh = () => qc.invalidateQueries({ queryKey: key });
  const add = useMutation({
    mutationFn: () => im.addMember(id, project.trim()),
    onSuccess: () => (setProject(""), refresh()),
  });
  const remove = useMutation({ mutationFn: (m: string) => im.removeMember(id, m), onSettled: refresh });
  const err = projectError(
    project,
    (members.data ?? []).map((m) => m.member_id),
  );
  return (
    <SaveDialog
      id="share-image-form"
      title={`Share Image ${name}`}
      submit="Add Project"
      save={add}
      errors={[err]}
      onClose={onClose}
      cancel="Close"
      footer={
        <>
          <ErrorAlert error={remove.error ?? members.error} title="The cloud refused the request" />
          <SmallTable
            label="image members"
            rows={members.data}
            loading={members.isLoading}
            heads={["Project", "Status"]}
            cells={(m) => [m.member_id, m.status]}
            rowKey={(m) => m.member_id}
            empty="Not shared with any project yet."
            remove={(m) => (
              <Button
                size="sm"
                variant="danger"
                onClick={() => remove.mutate(m.member_id)}
                aria-label={`Remove ${m.member_id}`}
              >
                Remove
              </Button>
            )}
          />
        </>
      }
    >
      {(shown) => (
        <TextField
          label="Project ID"
          id="share-image-project"
          value={project}
          onChange={(v) => (setProject(v), add.isSuccess && add.reset())}
          error={add.isSuccess && !project ? undefined : err}
          shown={shown}
          required
        />
      )}
    </SaveDialog>
  );
}

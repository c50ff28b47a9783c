// Flavors: every flavor, public and private; create (checked before sending), delete after confirmation, and the
// projects a private flavor is shared with.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AdminFlavor } from "../../../api/admin-compute.js";
import { Field, FormDialog } from "../../dialog.js";
import { Button, Checkbox, TextInput } from "../../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, intError, nameError, useAdminCalls, useProjects } from "./common.js";
import { MembersDialog } from "./MembersDialog.js";

const KEY = ["admin", "flavors"];
const ID_RE = /^[\w.\- ]{1,255}$/;

/** The create dialog: name, optional id, vCPUs, RAM (MiB), root disk (GiB) and whether every project sees it. */
function CreateFlavor({ onClose }: { onClose(): void }) {
  const { ac } = useAdminCalls();
  const qc = useQueryClient();
  const [f, setF] = useState({ name: "", id: "", vcpus: "1", ram: "512", disk: "1", isPublic: true });
  const [shown, setShown] = useState(false);
  const errors = {
    name: nameError(f.name),
    id: f.id && !ID_RE.test(f.id) ? "Letters, digits, spaces, '.', '_' and '-' only." : undefined,
    vcpus: intError(f.vcpus, 1),
    ram: intError(f.ram, 1),
    disk: intError(f.disk, 0),
  };
  const bad = Object.values(errors).some(Boolean);
  const save = useMutation({
    mutationFn: () =>
      ac.createFlavor({
        name: f.name.trim(),
        id: f.id.trim() || undefined,
        vcpus: Number(f.vcpus),
        ram: Number(f.ram),
        disk: Number(f.disk),
        isPublic: f.isPublic,
      }),
    onSuccess: () => (void qc.invalidateQueries({ queryKey: KEY }), onClose()),
  });
  const text = (k: "name" | "id" | "vcpus" | "ram" | "disk", label: string, required = true) => (
    <Field label={label} id={`flavor-${k}`} error={errors[k]} shown={shown} required={required}>
      <TextInput
        id={`flavor-${k}`}
        value={f[k]}
        inputMode={k === "name" || k === "id" ? undefined : "numeric"}
        onChange={(_e, v) => setF({ ...f, [k]: v })}
        validated={shown && errors[k] ? "error" : "default"}
      />
    </Field>
  );
  return (
    <FormDialog
      id="flavor-form"
      title="Create Flavor"
      submit="Create Flavor"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!bad) save.mutate();
      }}
    >
      {text("name", "Name")}
      {text("id", "ID (generated when empty)", false)}
      {text("vcpus", "vCPUs")}
      {text("ram", "RAM (MiB)")}
      {text("disk", "Root disk (GiB)")}
      <Checkbox
        id="flavor-public"
        label="Public (every project can use it)"
        isChecked={f.isPublic}
        onChange={(_e, v) => setF({ ...f, isPublic: v })}
      />
    </FormDialog>
  );
}

/** The Flavors page's content. */
function FlavorsContent() {
  const { ac, ai } = useAdminCalls();
  const qc = useQueryClient();
  const flavors = useQuery({ queryKey: KEY, queryFn: ac.flavors });
  const projects = useProjects();
  /** The projects a flavor is shared with, named (the project list is fetched first when not cached). */
  const accessOf = async (id: string) => {
    const all = await qc.fetchQuery({ queryKey: ["admin", "projects"], queryFn: ai.projects });
    const names = new Map(all.map((p) => [p.id, p.name]));
    return (await ac.flavorAccess(id)).map((p) => ({ id: p, name: names.get(p) ?? p }));
  };
  const [creating, setCreating] = useState(false);
  const [sharing, setSharing] = useState<AdminFlavor | null>(null);
  const [deleting, setDeleting] = useState<AdminFlavor | null>(null);
  const del = useMutation({
    mutationFn: ac.deleteFlavor,
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
  const pub = (x: AdminFlavor) => x["os-flavor-access:is_public"] !== false;
  return (
    <>
      <PageTitle title="Flavors">
        <Button onClick={() => setCreating(true)}>Create Flavor</Button>
      </PageTitle>
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} />
        </div>
      )}
      <ResourceTable<AdminFlavor>
        label="flavors"
        rows={flavors.data}
        loading={flavors.isLoading}
        error={flavors.error}
        rowKey={(x) => x.id}
        filterText={(x) => `${x.name} ${x.id} ${pub(x) ? "public" : "private"}`}
        empty="Create a flavor: the sizes instances are launched with."
        columns={[
          { title: "Name", cell: (x) => x.name },
          { title: "ID", cell: (x) => <code>{x.id}</code> },
          { title: "vCPUs", cell: (x) => x.vcpus },
          { title: "RAM", cell: (x) => `${x.ram} MiB` },
          { title: "Root disk", cell: (x) => `${x.disk} GiB` },
          { title: "Public", cell: (x) => (pub(x) ? "Yes" : "No") },
        ]}
        actions={(x) => (
          <>
            {!pub(x) && (
              <Button
                size="sm"
                variant="secondary"
                onClick={() => setSharing(x)}
                aria-label={`Access to ${x.name}`}
              >
                Access
              </Button>
            )}
            <Button size="sm" variant="danger" onClick={() => setDeleting(x)} aria-label={`Delete ${x.name}`}>
              Delete
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete flavor?"
        body={<>The flavor {deleting?.name} is deleted. Instances launched with it keep their size.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {creating && <CreateFlavor onClose={() => setCreating(false)} />}
      {sharing && (
        <MembersDialog
          id="access"
          title={`Access to ${sharing.name}`}
          noun="project"
          listLabel="Projects with access"
          empty="No project has access yet."
          queryKey={["admin", "flavor-access", sharing.id]}
          load={() => accessOf(sharing.id)}
          change={(id, add) => ac.setFlavorAccess(sharing.id, id, add)}
          candidates={projects.data ?? []}
          removeLabel={(name) => `Remove access of ${name}`}
          onClose={() => setSharing(null)}
        />
      )}
    </>
  );
}

/** The Flavors page. */
export default adminPage(FlavorsContent);

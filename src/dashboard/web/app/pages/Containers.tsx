// Object storage containers: list with object count and bytes, create (public or private through the read ACL),
// delete with confirmation (Swift refuses a non-empty container; the page says so). Paged by the server (marker),
// the filter sent as a name prefix.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { containerNameError, type Container } from "../../api/objects.js";
import { Button, Checkbox, TextInput } from "../pf.js";
import { Field, FormDialog } from "../dialog.js";
import { Link } from "../router.js";
import { plural, serverListing, useServerPages } from "../server-pages.js";
import { useObjectCalls } from "../service-calls.js";
import { Confirm, ErrorAlert, formatBytes, PageTitle, ResourceTable } from "../ui.js";

/** The create dialog: name and public access. */
function CreateContainer({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { o } = useObjectCalls();
  const [name, setName] = useState("");
  const [pub, setPub] = useState(false);
  const [shown, setShown] = useState(false);
  const error = containerNameError(name.trim());
  const save = useMutation({
    mutationFn: () => o.createContainer(name.trim(), pub),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="container-form"
      title="Create Container"
      submit="Create"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Container name" id="container-name" error={error} shown={shown} required>
        <TextInput
          id="container-name"
          value={name}
          onChange={(_e, x) => setName(x)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
      <Checkbox
        id="container-public"
        label="Public: anyone can read and list its objects without a token"
        isChecked={pub}
        onChange={(_e, x) => setPub(x)}
      />
    </FormDialog>
  );
}

/** The Containers page. */
export default function Containers() {
  const { o, project } = useObjectCalls();
  const qc = useQueryClient();
  const pages = useServerPages();
  const key = ["containers", project];
  const containers = useQuery({
    queryKey: [...key, pages.query],
    queryFn: () => o.containers(pages.query),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Container | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: key });
  const del = useMutation({ mutationFn: o.deleteContainer, onSettled: refresh });
  return (
    <>
      <PageTitle title="Containers">
        <Button onClick={() => setCreating(true)}>Create Container</Button>
      </PageTitle>
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} title="Could not delete the container" />
        </div>
      )}
      <ResourceTable<Container>
        label="containers"
        rows={containers.data?.rows}
        loading={containers.isLoading}
        error={containers.error}
        rowKey={(c) => c.name}
        filterText={(c) => c.name}
        server={serverListing(pages, containers.data, "containers", (n) => plural(n, "container"))}
        empty="Create a container to store objects (files) in it."
        columns={[
          {
            title: "Name",
            cell: (c) => <Link to={`/project/containers/${encodeURIComponent(c.name)}`}>{c.name}</Link>,
          },
          { title: "Objects", cell: (c) => String(c.count) },
          { title: "Size", cell: (c) => formatBytes(c.bytes) },
        ]}
        actions={(c) => (
          <Button size="sm" variant="danger" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
            Delete
          </Button>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete container?"
        body={<>The container {deleting?.name} is deleted (only an empty container can be).</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.name);
          setDeleting(null);
        }}
      />
      {creating && <CreateContainer onClose={() => setCreating(false)} onDone={refresh} />}
    </>
  );
}

// One container's objects under a prefix, with pseudo-folders (prefix/delimiter): browse folders, create a folder,
// upload a file (streamed from the browser with progress), download, a temporary URL, delete, and the public
// access toggle. The listing is paged by the server (marker), the filter sent as a name prefix, with the
// container's object count; a download streams with progress, and a large one is saved by the browser itself
// through a short-lived temporary URL instead of being held in memory.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { objectPath, type Entry } from "../../api/objects.js";
import { Button, Progress, Switch, TextInput, ToolbarItem } from "../pf.js";
import { Field, FormDialog } from "../dialog.js";
import { Link, useLocation } from "../router.js";
import { useApi } from "../session.js";
import { plural, serverListing, useServerPages } from "../server-pages.js";
import { useObjectCalls } from "../service-calls.js";
import { DownloadStatus, useDownload } from "./ObjectDownload.js";
import { Confirm, ErrorAlert, formatBytes, PageTitle, ResourceTable } from "../ui.js";
import { putWithProgress } from "../upload.js";
import { TempUrlDialog } from "./ObjectTempUrl.js";

/** Why an object or folder name is refused before sending, or undefined. */
function nameError(name: string, full: string): string | undefined {
  if (!name) return "Enter a name.";
  if (name.startsWith("/") || name.includes("//")) return "A name cannot start with '/' or contain '//'.";
  if (new TextEncoder().encode(full).length > 1024) return "The full name is at most 1024 bytes.";
  return undefined;
}

/** The URL of a folder of the container. */
const folderUrl = (container: string, prefix: string) =>
  `/project/containers/${encodeURIComponent(container)}${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ""}`;

/** The upload dialog: the file, its object name (under the current folder), and the progress bar. */
function Upload(props: { container: string; prefix: string; onClose(): void; onDone(): void }) {
  const { api } = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [progress, setProgress] = useState<number | null>(null);
  const [shown, setShown] = useState(false);
  const errors = { file: file ? undefined : "Choose a file.", name: nameError(name, props.prefix + name) };
  const upload = useMutation({
    mutationFn: async () => {
      setProgress(0);
      const { url, headers } = api.prepare("object-store", objectPath(props.container, props.prefix + name), {
        "content-type": file!.type || "application/octet-stream",
      });
      await putWithProgress(url, headers, file!, setProgress, "object-store");
    },
    onSuccess: () => props.onDone(),
  });
  const pct = progress === null ? null : Math.round(progress * 100);
  return (
    <FormDialog
      id="object-upload-form"
      title={`Upload to ${props.container}/${props.prefix}`}
      submit="Upload"
      busy={upload.isPending}
      error={upload.error}
      onClose={props.onClose}
      cancel={upload.isSuccess ? "Done" : "Cancel"}
      onSubmit={() => {
        setShown(true);
        if (!errors.file && !errors.name) upload.mutate();
      }}
      footer={
        pct !== null && (
          <Progress
            id="object-upload-progress"
            value={pct}
            aria-label="Upload progress"
            variant={pct === 100 && upload.isSuccess ? "success" : undefined}
          />
        )
      }
    >
      <Field label="File" id="object-file" error={errors.file} shown={shown} required>
        <input
          id="object-file"
          type="file"
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null;
            setFile(f);
            if (f && !name) setName(f.name);
          }}
        />
      </Field>
      <Field label="Object name" id="object-name" error={errors.name} shown={shown} required>
        <TextInput
          id="object-name"
          value={name}
          onChange={(_e, x) => setName(x)}
          validated={shown && errors.name ? "error" : "default"}
        />
      </Field>
    </FormDialog>
  );
}

/** The create folder dialog. */
function CreateFolder(props: { container: string; prefix: string; onClose(): void; onDone(): void }) {
  const { o } = useObjectCalls();
  const [name, setName] = useState("");
  const [shown, setShown] = useState(false);
  const clean = name.trim().replace(/\/+$/, "");
  const error = nameError(clean, `${props.prefix}${clean}/`);
  const save = useMutation({
    mutationFn: () => o.createFolder(props.container, props.prefix + clean),
    onSuccess: () => (props.onDone(), props.onClose()),
  });
  return (
    <FormDialog
      id="folder-form"
      title="Create Folder"
      submit="Create"
      busy={save.isPending}
      error={save.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Folder name" id="folder-name" error={error} shown={shown} required>
        <TextInput
          id="folder-name"
          value={name}
          onChange={(_e, x) => setName(x)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
    </FormDialog>
  );
}

/** The page of one container (params[0] is its name; ?prefix= the folder shown). */
export default function ContainerObjects({ params }: { params: string[] }) {
  const container = params[0];
  const { search } = useLocation();
  const prefix = search.get("prefix") ?? "";
  const { o, project } = useObjectCalls();
  const qc = useQueryClient();
  const pages = useServerPages();
  const [shownPrefix, setShownPrefix] = useState(prefix);
  if (shownPrefix !== prefix) {
    // Another folder: back to its first page, unfiltered.
    setShownPrefix(prefix);
    pages.setFilter("");
  }
  const key = ["objects", project, container, prefix, pages.query];
  const entries = useQuery({
    queryKey: key,
    queryFn: () => o.entries(container, prefix, pages.query),
    placeholderData: keepPreviousData,
  });
  const pubKey = ["container-public", project, container];
  const pub = useQuery({ queryKey: pubKey, queryFn: () => o.isPublic(container) });
  const [dialog, setDialog] = useState<"upload" | "folder" | null>(null);
  const [temp, setTemp] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const refresh = () =>
    void Promise.all([
      qc.invalidateQueries({ queryKey: ["objects", project, container] }),
      qc.invalidateQueries({ queryKey: ["containers", project] }),
    ]);
  const setPublic = useMutation({
    mutationFn: (v: boolean) => o.setPublic(container, v),
    onSettled: () => qc.invalidateQueries({ queryKey: pubKey }),
  });
  const del = useMutation({
    mutationFn: (name: string) =>
      name.endsWith("/") ? o.deleteFolder(container, name) : o.deleteObject(container, name),
    onSettled: refresh,
  });
  const get = useDownload(container);
  const crumbs = prefix.split("/").filter(Boolean);
  const short = (e: Entry) => e.name.slice(prefix.length).replace(/\/$/, "");
  return (
    <>
      <PageTitle title={`Container ${container}`}>
        <Button variant="secondary" onClick={() => setDialog("folder")}>
          Create Folder
        </Button>
        <Button onClick={() => setDialog("upload")}>Upload File</Button>
      </PageTitle>
      <div
        style={{ padding: "0 1.5rem", display: "flex", gap: "1rem", flexWrap: "wrap", alignItems: "center" }}
      >
        <nav aria-label="Folder path" data-testid="folder-path">
          <Link to="/project/containers">Containers</Link>
          {" / "}
          <Link to={folderUrl(container, "")}>{container}</Link>
          {crumbs.map((c, i) => (
            <span key={i}>
              {" / "}
              <Link to={folderUrl(container, `${crumbs.slice(0, i + 1).join("/")}/`)}>{c}</Link>
            </span>
          ))}
        </nav>
        <Switch
          id="container-public-switch"
          label="Public access"
          isChecked={setPublic.isPending ? setPublic.variables : (pub.data ?? false)}
          isDisabled={pub.isLoading || setPublic.isPending}
          onChange={(_e, v) => setPublic.mutate(v)}
        />
      </div>
      {(del.error || setPublic.error || pub.error) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error ?? setPublic.error ?? pub.error} />
        </div>
      )}
      <DownloadStatus download={get} />
      <ResourceTable<Entry>
        label="objects"
        rows={entries.data?.rows}
        loading={entries.isLoading}
        error={entries.error}
        rowKey={(e) => e.name}
        filterText={(e) => e.name}
        server={serverListing(
          pages,
          entries.data,
          "objects",
          (n) => `${plural(n, "object")} in the container`,
        )}
        empty="Upload a file or create a folder."
        toolbar={<ToolbarItem>{entries.isFetching ? "Refreshing..." : ""}</ToolbarItem>}
        columns={[
          {
            title: "Name",
            cell: (e) =>
              e.kind === "folder" ? <Link to={folderUrl(container, e.name)}>{short(e)}</Link> : short(e),
          },
          { title: "Type", cell: (e) => (e.kind === "folder" ? "Folder" : e.content_type || "-") },
          { title: "Size", cell: (e) => (e.kind === "folder" ? "-" : formatBytes(e.bytes)) },
          {
            title: "Modified",
            cell: (e) => (e.kind === "folder" ? "-" : new Date(`${e.last_modified}Z`).toLocaleString()),
          },
        ]}
        actions={(e) =>
          e.kind === "folder" ? (
            <Button
              size="sm"
              variant="danger"
              onClick={() => setDeleting(e.name)}
              aria-label={`Delete folder ${short(e)}`}
            >
              Delete
            </Button>
          ) : (
            <>
              <Button
                size="sm"
                variant="secondary"
                onClick={() => get.start(e)}
                isDisabled={get.busy}
                aria-label={`Download ${short(e)}`}
              >
                Download
              </Button>{" "}
              <Button
                size="sm"
                variant="secondary"
                onClick={() => setTemp(e.name)}
                aria-label={`Temporary URL of ${short(e)}`}
              >
                Temporary URL
              </Button>{" "}
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(e.name)}
                aria-label={`Delete ${short(e)}`}
              >
                Delete
              </Button>
            </>
          )
        }
      />
      <Confirm
        open={!!deleting}
        title={deleting?.endsWith("/") ? "Delete folder?" : "Delete object?"}
        body={
          deleting?.endsWith("/") ? (
            <>The folder {deleting} is deleted (only an empty folder can be).</>
          ) : (
            <>The object {deleting} is deleted for good.</>
          )
        }
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting);
          setDeleting(null);
        }}
      />
      {temp && <TempUrlDialog container={container} name={temp} onClose={() => setTemp(null)} />}
      {dialog === "upload" && (
        <Upload container={container} prefix={prefix} onClose={() => setDialog(null)} onDone={refresh} />
      )}
      {dialog === "folder" && (
        <CreateFolder
          container={container}
          prefix={prefix}
          onClose={() => setDialog(null)}
          onDone={refresh}
        />
      )}
    </>
  );
}

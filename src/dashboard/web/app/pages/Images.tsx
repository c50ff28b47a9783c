// Images: the images the project sees, upload from a local file with a progress bar, edit, share, delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { Image } from "../../api/resources.js";
import {
  Button,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Progress,
  TextInput,
} from "../pf.js";
import { useApi } from "../session.js";
import { putWithProgress } from "../upload.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { EditImage, ShareImage } from "./ImageDialogs.js";

const FORMATS = ["qcow2", "raw", "iso", "vmdk", "vdi", "vhd", "ami", "ari", "aki"];

/** Human-readable size. */
function size(n: number | null): string {
  if (n === null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** The upload dialog: create the image record, then send the file with progress. */
function UploadDialog({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { r, api } = useApi();
  const [name, setName] = useState("");
  const [format, setFormat] = useState("qcow2");
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [touched, setTouched] = useState(false);
  const errors = {
    name: name.trim() ? undefined : "Enter a name.",
    file: file ? undefined : "Choose a file.",
  };
  const upload = useMutation({
    mutationFn: async () => {
      const img = await r.createImage(name.trim(), format);
      setProgress(0);
      const { url, headers } = api.prepare("image", `/v2/images/${encodeURIComponent(img.id)}/file`, {
        "content-type": "application/octet-stream",
      });
      await putWithProgress(url, headers, file!, setProgress);
    },
    onSuccess: () => onDone(),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (errors.name || errors.file) return;
    upload.mutate();
  };
  const pct = progress === null ? null : Math.round(progress * 100);
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="upload-title">
      <ModalHeader title="Upload Image" labelId="upload-title" />
      <ModalBody>
        <ErrorAlert error={upload.error} title="The upload failed" />
        <Form id="upload-form" onSubmit={submit} noValidate>
          <FormGroup label="Name" fieldId="image-name" isRequired>
            <TextInput
              id="image-name"
              value={name}
              onChange={(_e, v) => setName(v)}
              validated={touched && errors.name ? "error" : "default"}
            />
            {touched && errors.name && (
              <HelperText>
                <HelperTextItem variant="error">{errors.name}</HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
          <FormGroup label="Disk format" fieldId="image-format">
            <FormSelect id="image-format" value={format} onChange={(_e, v) => setFormat(v)}>
              {FORMATS.map((f) => (
                <FormSelectOption key={f} value={f} label={f} />
              ))}
            </FormSelect>
          </FormGroup>
          <FormGroup label="File" fieldId="image-file" isRequired>
            <input
              id="image-file"
              type="file"
              onChange={(e) => {
                const f = e.target.files?.[0] ?? null;
                setFile(f);
                if (f && !name) setName(f.name.replace(/\.[^.]+$/, ""));
              }}
            />
            {touched && errors.file && (
              <HelperText>
                <HelperTextItem variant="error">{errors.file}</HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
          {pct !== null && (
            <Progress
              id="upload-progress"
              value={pct}
              aria-label="Upload progress"
              variant={pct === 100 ? "success" : undefined}
            />
          )}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="upload-form" isLoading={upload.isPending} isDisabled={upload.isPending}>
          Upload
        </Button>
        <Button variant="link" onClick={onClose}>
          {upload.isSuccess ? "Done" : "Cancel"}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The Images page. */
export default function Images() {
  const { r, session } = useApi();
  const qc = useQueryClient();
  const key = ["images", session.project.id];
  const images = useQuery({ queryKey: key, queryFn: r.images, refetchInterval: 5000 });
  const [uploading, setUploading] = useState(false);
  const [deleting, setDeleting] = useState<Image | null>(null);
  const [editing, setEditing] = useState<Image | null>(null);
  const [sharing, setSharing] = useState<Image | null>(null);
  const del = useMutation({
    mutationFn: r.deleteImage,
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      <PageTitle title="Images">
        <Button onClick={() => setUploading(true)}>Upload Image</Button>
      </PageTitle>
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} title="Could not delete the image" />
        </div>
      )}
      <ResourceTable<Image>
        label="images"
        rows={images.data}
        loading={images.isLoading}
        error={images.error}
        rowKey={(i) => i.id}
        filterText={(i) => `${i.name ?? ""} ${i.status} ${i.disk_format ?? ""} ${i.visibility}`}
        empty="Upload an image to launch instances from it."
        columns={[
          { title: "Name", cell: (i) => i.name ?? i.id },
          { title: "Status", cell: (i) => i.status },
          { title: "Visibility", cell: (i) => i.visibility },
          { title: "Format", cell: (i) => i.disk_format ?? "-" },
          { title: "Size", cell: (i) => size(i.size) },
        ]}
        actions={(i) =>
          i.owner === session.project.id ? (
            <>
              <Button
                size="sm"
                variant="secondary"
                onClick={() => setEditing(i)}
                aria-label={`Edit ${i.name ?? i.id}`}
              >
                Edit
              </Button>{" "}
              {i.visibility === "shared" && (
                <>
                  <Button
                    size="sm"
                    variant="secondary"
                    onClick={() => setSharing(i)}
                    aria-label={`Share ${i.name ?? i.id}`}
                  >
                    Share
                  </Button>{" "}
                </>
              )}
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(i)}
                aria-label={`Delete ${i.name ?? i.id}`}
              >
                Delete
              </Button>
            </>
          ) : null
        }
      />
      <Confirm
        open={!!deleting}
        title="Delete image?"
        body={<>The image {deleting?.name} is deleted. Instances launched from it keep running.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {editing && (
        <EditImage
          id={editing.id}
          onClose={() => setEditing(null)}
          onDone={() => void qc.invalidateQueries({ queryKey: key })}
        />
      )}
      {sharing && (
        <ShareImage id={sharing.id} name={sharing.name ?? sharing.id} onClose={() => setSharing(null)} />
      )}
      {uploading && (
        <UploadDialog
          onClose={() => setUploading(false)}
          onDone={() => void qc.invalidateQueries({ queryKey: key })}
        />
      )}
    </>
  );
}

// The volume agent's half of os-volume_upload_image: read the volume as raw bytes (a point-in-time copy when it is
// attached), convert it with qemu-img when the image is not raw (through a temporary file: qemu-img cannot write
// to a pipe), and stream it into the queued image. The volume goes back to available or in-use either way; a
// failed upload deletes the image.
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { VolumeCore } from "../core.js";
import { qemuImg } from "../drivers/exec.js";
import type { VolumeBackend } from "../drivers/types.js";
import { attachmentsOf } from "../store/attachments.js";
import type { VolumeRow } from "../store/rows.js";
import { getVolume, transitionVolume } from "../store/volumes.js";

/** Image disk formats a volume may be uploaded as, and qemu-img's name for each. */
export const UPLOAD_FORMATS = new Map([
  ["raw", "raw"],
  ["qcow2", "qcow2"],
  ["vmdk", "vmdk"],
  ["vdi", "vdi"],
  ["vhd", "vpc"],
  ["vhdx", "vhdx"],
]);

/** The raw stream converted to `qemuFormat` in `dir`; the file is unlinked once opened. */
async function converted(raw: Readable, qemuFormat: string, dir: string): Promise<Readable> {
  const input = join(dir, "raw");
  const out = join(dir, "out");
  await pipeline(raw, createWriteStream(input, { mode: 0o600 }));
  await qemuImg(["convert", "-q", "-f", "raw", "-O", qemuFormat, input, out]);
  await rm(input, { force: true });
  return createReadStream(out);
}

/** Upload a volume in `uploading` to image `imageId`; throws after setting the volume back when it fails. */
export async function uploadVolume(
  core: VolumeCore,
  backendOf: (v: VolumeRow) => VolumeBackend,
  a: { volumeId: string; imageId: string; diskFormat: string },
): Promise<void> {
  const v = await getVolume(core, a.volumeId);
  if (!v || v.status !== "uploading") return;
  const backend = backendOf(v);
  const writer = core.imageWriter;
  let dir: string | null = null;
  try {
    if (!writer) throw new Error("no image service to upload to");
    const qemuFormat = UPLOAD_FORMATS.get(a.diskFormat);
    if (!qemuFormat) throw new Error(`disk format ${a.diskFormat} is not supported`);
    let data: Readable;
    if (qemuFormat === "raw") data = await backend.readRaw(v.id);
    else {
      dir = await mkdtemp(join(core.cfg.dataDir, ".volume-upload-")).catch(() =>
        mkdtemp(join(tmpdir(), "stratus-volume-upload-")),
      );
      // A detached volume in a local file converts straight from it (nothing writes it while uploading); an
      // attached one goes through the backend's point-in-time raw copy.
      const loc = await backend.locate(v.id);
      const attached = (await attachmentsOf(core, v.id)).length > 0;
      if (loc && !attached && existsSync(loc.path)) {
        const out = join(dir, "out");
        await qemuImg(["convert", "-q", "-U", "-f", loc.format, "-O", qemuFormat, loc.path, out]);
        data = createReadStream(out);
      } else data = await converted(await backend.readRaw(v.id), qemuFormat, dir);
    }
    await writer.upload(a.imageId, data);
  } catch (err) {
    await writer?.remove(a.imageId).catch(() => {});
    throw err;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
    const attached = (await attachmentsOf(core, v.id)).some((x) => x.attach_status === "attached");
    await transitionVolume(core, v.id, ["uploading"], { status: attached ? "in-use" : "available" });
  }
}

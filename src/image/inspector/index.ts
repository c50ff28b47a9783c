// In-process disk image format inspector. Fed an upload chunk by chunk, it works out what the bytes really are
// (qcow2, vmdk, vhd, vhdx, vdi, iso, else raw), their virtual size, and whether they would make a hypervisor or
// qemu-img read anything but the image itself: backing files, external data files, VMDK extents naming host files,
// parent images of differencing disks, or headers of two formats at once (so a probe could pick the other one).
// It keeps only the first 2 MiB, the last 1.5 KiB, and a few small metadata regions (see capture.ts).
//
// Written from the format specifications; the design (parallel detection, "raw" only when nothing else matches,
// safety checks per format, refusing ambiguous matches) follows OpenStack's format_inspector.
import { StreamCapture } from "./capture.js";
import type { Finding } from "./finding.js";
import {
  inspectIso,
  inspectOtherMagic,
  inspectVdi,
  inspectVhd,
  isVdi,
  partitionTable,
  vhdFooterAt,
} from "./formats.js";
import { inspectQcow, isQcow } from "./qcow2.js";
import type { InspectionResult, StreamInspector } from "./types.js";
import { VhdxInspection, isVhdx } from "./vhdx.js";
import { inspectVmdkDescriptorFile, inspectVmdkSparse, isVmdkDescriptorFile, isVmdkSparse } from "./vmdk.js";

export type { InspectedFormat, InspectionResult, StreamInspector } from "./types.js";
export { checkDeclaredFormat, type DeclaredFormatOptions } from "./declared.js";

/** A new inspector for one stream. Feed every chunk in order to `write`, then call `finish` once. */
export function createInspector(): StreamInspector {
  return new Inspector();
}

/** Inspect a whole in-memory buffer or an (async) iterable of chunks, e.g. a file read stream. */
export async function inspectStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<InspectionResult> {
  const inspector = createInspector();
  for await (const chunk of source) inspector.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return inspector.finish();
}

class Inspector implements StreamInspector {
  private readonly cap: StreamCapture;
  private vhdx: VhdxInspection | null = null;
  private headStageDone = false;
  private bytes = 0;
  private error: string | null = null;
  private result: InspectionResult | null = null;

  constructor() {
    this.cap = new StreamCapture(() => this.headStage());
  }

  write(chunk: Buffer): void {
    if (this.result) throw new Error("image inspector: write() after finish()");
    this.bytes += chunk.length;
    if (this.error) return;
    try {
      this.cap.write(chunk);
    } catch (err) {
      // Never break the upload pipeline; the failure makes the result unsafe instead.
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  finish(): InspectionResult {
    if (this.result) return this.result;
    let result: InspectionResult;
    try {
      if (this.error) throw new Error(this.error);
      this.headStage();
      this.cap.finish();
      result = this.conclude();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      result = {
        format: "raw",
        virtualSize: null,
        unsafe: [`image inspection failed: ${why}`],
        actualSize: this.bytes,
        signatures: [],
      };
    }
    this.result = result;
    return result;
  }

  /** Runs once the head is complete (or at EOF for short streams): sets up captures beyond the head. */
  private headStage(): void {
    if (this.headStageDone) return;
    this.headStageDone = true;
    const head = this.cap.headBytes();
    if (isVhdx(head)) {
      this.vhdx = new VhdxInspection(this.cap);
      this.vhdx.start(head);
    }
  }

  private conclude(): InspectionResult {
    const head = this.cap.headBytes();
    const tail = this.cap.tailBytes();
    const size = this.cap.pos;

    // Formats identified by a magic at offset 0 are mutually exclusive.
    let atZero: Finding | null = null;
    const footer0 = vhdFooterAt(head, 0);
    if (isQcow(head)) atZero = inspectQcow(head, size);
    else if (isVmdkSparse(head)) atZero = inspectVmdkSparse(head, tail);
    else if (footer0) atZero = inspectVhd(footer0);
    else if (this.vhdx) atZero = this.vhdx.finding(this.cap.missed);
    else atZero = inspectOtherMagic(head, size);

    // Signatures elsewhere can coexist with one at offset 0 (or with each other): any such overlap is refused.
    const vdi = isVdi(head) ? inspectVdi(head) : null;
    const descriptor = !atZero && isVmdkDescriptorFile(head) ? inspectVmdkDescriptorFile(head) : null;
    const tailFooter = atZero?.name === "vhd" ? null : vhdFooterAt(tail, tail.length - 512);
    const fixedVhd = tailFooter ? inspectVhd(tailFooter) : null;
    const iso = inspectIso(head, size);

    const found = [atZero, vdi, descriptor, fixedVhd, iso].filter((f): f is Finding => f !== null);
    const chosen: Finding = found[0] ?? { name: "raw", format: "raw", virtualSize: size, unsafe: [] };
    const unsafe = [...chosen.unsafe];
    if (found.length > 1) {
      unsafe.push(`ambiguous image: the data looks like ${found.map((f) => f.name).join(" and ")}`);
      for (const f of found.slice(1)) for (const u of f.unsafe) if (!unsafe.includes(u)) unsafe.push(u);
    }
    const signatures = found.map((f) => f.name);
    const table = partitionTable(head);
    if (table) signatures.push(table);

    const result: InspectionResult = {
      format: chosen.format,
      virtualSize: chosen.virtualSize,
      unsafe,
      actualSize: size,
      signatures,
    };
    if (chosen.subformat !== undefined) result.subformat = chosen.subformat;
    return result;
  }
}

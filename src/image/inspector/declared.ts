// Does an image's declared disk_format agree with what its bytes are, and are the bytes safe?
//
// The attacks this stops: a qcow2 (or vmdk/vhd/...) with a backing or data file that reads host files, uploaded
// under a format that makes nobody look at its header (OSSA-2024-001/002, OSSA-2023-002). Rules, as in Nova's
// deep inspection and Glance's import-time checks:
//  - a format the inspector knows must be what the bytes are: qcow2 declared as raw is refused, and so are bytes
//    carrying another format qemu would auto-probe (qed, luks, parallels, bochs, cloop) declared as raw;
//  - an ISO declared as raw is refused by default (Nova and Glance's image-conversion plugin both refuse
//    "claimed raw, detected iso"); `allowIsoAsRaw` mirrors Glance's more lenient upload path instead;
//  - formats it does not know (ami, ari, aki, ploop, ...) are taken as declared, as long as the bytes are not a
//    detectable disk format (qcow2, vmdk, vhd, vhdx, vdi) or another probed format (parallels is fine for ploop);
//  - whatever the format, any safety finding refuses the image.
import { OTHER_PROBED } from "./finding.js";
import type { InspectedFormat, InspectionResult } from "./types.js";

export interface DeclaredFormatOptions {
  /** Accept an ISO 9660/UDF image declared as raw (default false). */
  allowIsoAsRaw?: boolean;
}

const INSPECTED: ReadonlySet<string> = new Set<InspectedFormat>([
  "raw",
  "qcow2",
  "vmdk",
  "vhd",
  "vhdx",
  "vdi",
  "iso",
]);
const DISK_FORMATS: ReadonlySet<string> = new Set<InspectedFormat>(["qcow2", "vmdk", "vhd", "vhdx", "vdi"]);
/** Other probed formats a non-inspected declared format may legitimately contain. */
const MAY_CONTAIN: Record<string, readonly string[]> = { ploop: ["parallels"] };

/** A human-readable reason to refuse the image, or null when the declared format and the content are acceptable. */
export function checkDeclaredFormat(
  declared: string,
  result: InspectionResult,
  options: DeclaredFormatOptions = {},
): string | null {
  const d = String(declared ?? "")
    .trim()
    .toLowerCase();
  if (!d) return "no disk_format declared";
  const probed = (result.signatures ?? []).filter((s) => (OTHER_PROBED as readonly string[]).includes(s));

  if (INSPECTED.has(d)) {
    const isoAsRaw = d === "raw" && result.format === "iso" && options.allowIsoAsRaw === true;
    if (result.format !== d && !isoAsRaw) return `declared ${d} but the data is ${result.format}`;
    if (d === "raw" && probed.length) return `declared raw but the data is ${probed[0]}`;
  } else {
    if (DISK_FORMATS.has(result.format)) return `declared ${d} but the data is ${result.format}`;
    const allowed = MAY_CONTAIN[d] ?? [];
    const bad = probed.filter((p) => !allowed.includes(p));
    if (bad.length) return `declared ${d} but the data is ${bad[0]}`;
  }
  if (result.unsafe.length) return `image is unsafe: ${result.unsafe.join("; ")}`;
  return null;
}

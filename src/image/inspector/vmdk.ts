// VMDK. Three shapes reach us:
//  - a hosted sparse extent: 512-byte little-endian header "KDMV" (magic, version, flags, capacity in sectors at 12,
//    grain size, descriptor offset/size in sectors at 28/36, ..., grain directory offset at 56) with the text
//    descriptor embedded at sector 1. monolithicSparse and streamOptimized images look like this; their one extent
//    is the file itself. streamOptimized may set the grain directory offset to ~0 ("GD_AT_END"), in which case the
//    authoritative header is a footer in the last 1536 bytes (footer marker, header copy, end-of-stream marker).
//  - the older "COWD" (VMDK3) sparse extent, no descriptor.
//  - a text descriptor file ("# Disk DescriptorFile", createType=..., extent lines `RW <sectors> <TYPE> "<file>"`),
//    whose data lives in the files its extent lines name — any path on the host (OSSA-2023-002).
// Only the first two are self-contained, and only monolithicSparse/streamOptimized are accepted. qemu also reads
// the text at sector 1 of a sparse file (or the start of a descriptor file) for "parentFileNameHint" and then opens
// that file as a backing image, so that is refused too; and a sparse header with capacity 0 makes qemu treat the
// embedded descriptor as a descriptor file and open its extents.
// Spec: VMware "Virtual Disk Format 5.0" (Virtual Disk Development Kit documentation).
import { hasAt, mulSafe, quote, toSafe, u32le, u64le, untilNul } from "./bytes.js";
import type { Finding } from "./finding.js";

const GD_AT_END = 0xffffffffffffffffn;
const DESC_MAX = 1024 * 1024 - 1;
const MARKER_FOOTER = 3;
const ALLOWED_TYPES = new Set(["monolithicsparse", "streamoptimized"]);

export function isVmdkSparse(head: Buffer): boolean {
  return hasAt(head, 0, "KDMV") || hasAt(head, 0, "COWD");
}

interface Extent {
  access: string;
  sectors: number | null;
  type: string;
  file: string | null;
}

interface Descriptor {
  /** Header fields by lower-cased key (ddb.* included), values unquoted. */
  fields: Map<string, string>;
  extents: Extent[];
  /** Lines that are neither comments, blank, `key = value` nor a well-formed extent. */
  bad: string[];
}

const FIELD_RE = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/;
const EXTENT_RE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Za-z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?$/i;

export function parseDescriptor(text: string): Descriptor {
  const d: Descriptor = { fields: new Map(), extents: [], bad: [] };
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const ext = EXTENT_RE.exec(line);
    if (ext) {
      d.extents.push({
        access: ext[1].toUpperCase(),
        sectors: Number.isSafeInteger(Number(ext[2])) ? Number(ext[2]) : null,
        type: ext[3].toUpperCase(),
        file: ext[4] ?? null,
      });
      continue;
    }
    const field = FIELD_RE.exec(line);
    if (field) {
      let v = field[2].trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      d.fields.set(field[1].toLowerCase(), v);
      continue;
    }
    d.bad.push(line);
  }
  return d;
}

/** Problems common to embedded descriptors and descriptor files: unparseable lines, createType, parent image. */
function descriptorProblems(d: Descriptor, text: string): string[] {
  const out: string[] = [];
  for (const line of d.bad.slice(0, 3)) out.push(`unrecognised line in VMDK descriptor: ${quote(line)}`);
  if (d.bad.length > 3) out.push(`${d.bad.length - 3} more unrecognised lines in VMDK descriptor`);
  const ct = d.fields.get("createtype");
  if (ct === undefined) out.push("VMDK descriptor has no createType");
  else if (!ALLOWED_TYPES.has(ct.toLowerCase())) {
    out.push(`VMDK createType ${quote(ct)} is not allowed (only monolithicSparse and streamOptimized)`);
  }
  const parent = parentHint(text);
  if (parent !== null) out.push(`VMDK image references a parent image ${quote(parent)}`);
  return out;
}

/** qemu finds "parentFileNameHint" anywhere in the descriptor text (even in a comment) and opens that file. */
function parentHint(text: string): string | null {
  const i = text.toLowerCase().indexOf("parentfilenamehint");
  if (i < 0) return null;
  const m = /^parentFileNameHint\s*=\s*"?([^"\r\n]*)/i.exec(text.slice(i, i + 1200));
  return m ? m[1] : "";
}

function sumExtents(d: Descriptor): number | null {
  let total = 0;
  for (const e of d.extents) {
    const bytes = mulSafe(e.sectors, 512);
    if (bytes === null) return null;
    total += bytes;
    if (!Number.isSafeInteger(total)) return null;
  }
  return total;
}

function isBareName(file: string): boolean {
  return file !== "" && file !== "." && file !== ".." && !/[/\\]/.test(file) && !/^[A-Za-z]:/.test(file);
}

export function inspectVmdkSparse(head: Buffer, tail: Buffer): Finding {
  const unsafe: string[] = [];
  const f: Finding = { name: "vmdk", format: "vmdk", virtualSize: null, unsafe };
  // qemu reads sector 1 onwards of any sparse VMDK for a parent image hint.
  const sector1Text = untilNul(head.subarray(0x200, 0x200 + DESC_MAX)).toString("latin1");

  if (hasAt(head, 0, "COWD")) {
    f.subformat = "vmdk3";
    f.virtualSize = mulSafe(u32le(head, 12), 512);
    unsafe.push("VMDK3 (COWD) sparse images are not allowed (only monolithicSparse and streamOptimized)");
    const parent = parentHint(sector1Text.slice(0, 10240));
    if (parent !== null) unsafe.push(`VMDK image references a parent image ${quote(parent)}`);
    return f;
  }

  const version = u32le(head, 4);
  let capacity = u64le(head, 12);
  const descOffset = u64le(head, 28);
  const descSize = u64le(head, 36);
  const gdOffset = u64le(head, 56);
  if (
    version === null ||
    capacity === null ||
    descOffset === null ||
    descSize === null ||
    gdOffset === null
  ) {
    unsafe.push("truncated VMDK sparse header");
    return f;
  }
  if (version < 1 || version > 3) unsafe.push(`unsupported VMDK version ${version}`);

  if (gdOffset === GD_AT_END) {
    // streamOptimized with the grain directory at the end: the footer's header copy is the one qemu uses.
    const footer = parseFooter(tail);
    if (typeof footer === "string") unsafe.push(footer);
    else {
      capacity = footer.capacity;
      if (footer.descOffset !== descOffset || footer.descSize !== descSize) {
        unsafe.push("VMDK footer points at a different descriptor than the header");
      }
      if (footer.gdOffset === GD_AT_END) unsafe.push("VMDK footer defers to yet another footer");
    }
  }

  let desc: Descriptor | null = null;
  if (descOffset === 0n) {
    unsafe.push("VMDK sparse image has no embedded descriptor (only monolithicSparse and streamOptimized)");
    const parent = parentHint(sector1Text.slice(0, 10240));
    if (parent !== null) unsafe.push(`VMDK image references a parent image ${quote(parent)}`);
  } else if (descOffset !== 1n) {
    unsafe.push(`VMDK descriptor at unexpected sector ${descOffset}`);
    const parent = parentHint(sector1Text.slice(0, 10240));
    if (parent !== null) unsafe.push(`VMDK image references a parent image ${quote(parent)}`);
  } else {
    desc = parseDescriptor(sector1Text);
    f.subformat = desc.fields.get("createtype");
    unsafe.push(...descriptorProblems(desc, sector1Text));
    if (desc.extents.length === 0) unsafe.push("VMDK descriptor lists no extents");
    else if (desc.extents.length > 1) {
      unsafe.push(`VMDK descriptor lists ${desc.extents.length} extents (a self-contained image has one)`);
    }
    for (const e of desc.extents) {
      if (e.type !== "SPARSE") {
        const target = e.file === null ? "" : ` ${quote(e.file)}`;
        unsafe.push(`VMDK extent of type ${e.type}${target} refers to data outside the image`);
      } else if (e.file === null || !isBareName(e.file)) {
        unsafe.push(`VMDK extent refers to another file ${quote(e.file ?? "")}`);
      }
    }
  }

  if (capacity === 0n) {
    // qemu then treats the embedded descriptor as a descriptor file and opens every extent it names.
    unsafe.push("VMDK sparse header has zero capacity, so its descriptor's extents would be opened as files");
    f.virtualSize = desc ? sumExtents(desc) : null;
  } else {
    f.virtualSize = mulSafe(toSafe(capacity), 512);
    if (f.virtualSize === null) unsafe.push("VMDK capacity is larger than 2^53 bytes");
  }
  return f;
}

function parseFooter(
  tail: Buffer,
): { capacity: bigint; descOffset: bigint; descSize: bigint; gdOffset: bigint } | string {
  const bad = "streamOptimized VMDK footer is missing or invalid";
  if (tail.length < 1536) return bad;
  const marker = tail.subarray(0, 512);
  const footer = tail.subarray(512, 1024);
  const eos = tail.subarray(1024, 1536);
  if (u32le(marker, 8) !== 0 || u32le(marker, 12) !== MARKER_FOOTER) return bad;
  if (!hasAt(footer, 0, "KDMV")) return bad;
  if (u64le(eos, 0) !== 0n || u32le(eos, 8) !== 0 || u32le(eos, 12) !== 0) return bad;
  return {
    capacity: u64le(footer, 12) as bigint,
    descOffset: u64le(footer, 28) as bigint,
    descSize: u64le(footer, 36) as bigint,
    gdOffset: u64le(footer, 56) as bigint,
  };
}

// ---- descriptor files ----

/** qemu's probe for a text descriptor: after '#' comment lines and lines of spaces, a "version=1|2|3" line. */
function qemuProbesDescriptor(b: Buffer): boolean {
  const end = Math.min(b.length, 2048);
  let p = 0;
  while (p < end) {
    if (b[p] === 0x23) {
      while (p < end && b[p] !== 0x0a) p++;
      p++;
      continue;
    }
    if (b[p] === 0x20) {
      while (p < end && b[p] === 0x20) p++;
      if (p < end && b[p] === 0x0d) p++;
      if (p === end || b[p] !== 0x0a) return false;
      p++;
      continue;
    }
    for (const v of ["1", "2", "3"]) {
      for (const eol of ["\n", "\r\n"]) {
        const s = `version=${v}${eol}`;
        if (p + s.length <= end && hasAt(b, p, s)) return true;
      }
    }
    return false;
  }
  return false;
}

function isTextByte(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0x7f);
}

const DESCRIPTOR_MARKERS = [
  /^[ \t]*#[ \t]*disk[ \t]*descriptor[ \t]*file/im,
  /^[ \t]*createtype[ \t]*=/im,
  /^[ \t]*(rw|rdonly|noaccess)[ \t]+\d+[ \t]+[a-z]+/im,
];

/** The stream (which has no binary magic at 0) looks like a VMDK text descriptor. */
export function isVmdkDescriptorFile(head: Buffer): boolean {
  if (qemuProbesDescriptor(head)) return true;
  const text = untilNul(head.subarray(0, DESC_MAX));
  if (text.length < 4) return false;
  const lead = text.subarray(0, 512);
  for (const c of lead) if (!isTextByte(c)) return false;
  const s = text.toString("latin1");
  return DESCRIPTOR_MARKERS.some((re) => re.test(s));
}

export function inspectVmdkDescriptorFile(head: Buffer): Finding {
  const text = untilNul(head.subarray(0, DESC_MAX)).toString("latin1");
  const d = parseDescriptor(text);
  const unsafe = [
    "VMDK descriptor file: the disk data would be read from the files it names, not from the image",
  ];
  for (const e of d.extents) {
    if (e.file !== null) unsafe.push(`VMDK extent refers to file ${quote(e.file)}`);
  }
  unsafe.push(...descriptorProblems(d, text));
  return {
    name: "vmdk",
    format: "vmdk",
    virtualSize: sumExtents(d),
    unsafe,
    subformat: d.fields.get("createtype") ?? "descriptor",
  };
}

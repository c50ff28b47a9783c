// VHDX. Little-endian. 0: file type identifier "vhdxfile". 192 KiB and 256 KiB: two copies of the region table,
// "regi" + checksum + entry count (u32 at 8), then 32-byte entries {GUID, file offset u64, length u32, flags u32}.
// The metadata region's entry points (anywhere in the file, often past the first MiB) at a table: "metadata",
// entry count (u16 at 10), then from 32 bytes in, 32-byte entries {item GUID, offset u32 (from the region start),
// length u32, flags u32}. Items used here: Virtual Disk Size (u64), File Parameters (block size u32, flags u32 with
// bit 1 = HasParent), and Parent Locator (present only in differencing disks, which read from a parent file).
// Spec: Microsoft [MS-VHDX].
import type { StreamCapture } from "./capture.js";
import { guidAt, hasAt, toSafe, u16le, u32le, u64le } from "./bytes.js";
import type { Finding } from "./finding.js";

const REGION_TABLES = [192 * 1024, 256 * 1024];
const METADATA_REGION = "8B7CA206-4790-4B9A-B8FE-575F050F886E";
const ITEM_VIRTUAL_DISK_SIZE = "2FA54224-CD1B-4876-B211-5DBED83BF4B8";
const ITEM_FILE_PARAMETERS = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B";
const ITEM_PARENT_LOCATOR = "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C";
const MAX_ENTRIES = 2047;
const METADATA_TABLE_SIZE = 64 * 1024;
const HAS_PARENT = 0x2;

export function isVhdx(head: Buffer): boolean {
  return hasAt(head, 0, "vhdxfile");
}

/** Follows the VHDX structures through the stream; `start` once the head is available, `finding` at the end. */
export class VhdxInspection {
  private virtualSize: number | null = null;
  private readonly unsafe: string[] = [];
  private readonly labels = new Set<string>();
  private sawFileParameters = false;
  private sawVirtualDiskSize = false;
  private started = false;
  private tableRead = false;

  constructor(private readonly cap: StreamCapture) {}

  start(head: Buffer): void {
    if (this.started) return;
    this.started = true;
    const meta = this.findMetadataRegion(head);
    if (!meta) return;
    const label = "metadata table";
    this.labels.add(label);
    this.cap.capture(meta.offset, Math.min(METADATA_TABLE_SIZE, meta.length), label, (table) =>
      this.readTable(meta.offset, meta.length, table),
    );
  }

  finding(missed: readonly string[]): Finding {
    const unsafe = [...this.unsafe];
    const lost = missed.filter((m) => this.labels.has(m));
    for (const m of lost) unsafe.push(`could not read the VHDX ${m} (truncated or out-of-order image)`);
    if (this.tableRead && !lost.length) {
      if (!this.sawVirtualDiskSize) unsafe.push("VHDX metadata has no virtual disk size");
      if (!this.sawFileParameters) unsafe.push("VHDX metadata has no file parameters");
    }
    return { name: "vhdx", format: "vhdx", virtualSize: this.virtualSize, unsafe };
  }

  private findMetadataRegion(head: Buffer): { offset: number; length: number } | null {
    for (const base of REGION_TABLES) {
      if (!hasAt(head, base, "regi")) continue;
      const count = u32le(head, base + 8) as number;
      if (count > MAX_ENTRIES) {
        this.unsafe.push(`VHDX region table has ${count} entries (limit ${MAX_ENTRIES})`);
        return null;
      }
      for (let i = 0; i < count; i++) {
        const e = base + 16 + i * 32;
        if (guidAt(head, e) !== METADATA_REGION) continue;
        const offset = toSafe(u64le(head, e + 16));
        const length = u32le(head, e + 24);
        if (offset === null || length === null || length < 32) {
          this.unsafe.push("VHDX metadata region entry is invalid");
          return null;
        }
        return { offset, length };
      }
      this.unsafe.push("VHDX region table has no metadata region");
      return null;
    }
    this.unsafe.push(
      head.length < REGION_TABLES[0] + 16 ? "truncated VHDX header" : "VHDX region table not found",
    );
    return null;
  }

  private readTable(regionOffset: number, regionLength: number, table: Buffer): void {
    if (!hasAt(table, 0, "metadata")) {
      this.unsafe.push("VHDX metadata table signature not found");
      return;
    }
    const count = u16le(table, 10) as number;
    if (count > MAX_ENTRIES || 32 + count * 32 > table.length) {
      this.unsafe.push(`VHDX metadata table has ${count} entries (limit ${MAX_ENTRIES})`);
      return;
    }
    this.tableRead = true;
    for (let i = 0; i < count; i++) {
      const e = 32 + i * 32;
      const guid = guidAt(table, e);
      const itemOffset = u32le(table, e + 16) as number;
      const itemLength = u32le(table, e + 20) as number;
      const inRegion = itemOffset + itemLength <= regionLength;
      if (guid === ITEM_PARENT_LOCATOR) {
        this.unsafe.push("differencing VHDX (parent locator) reads its data from a parent image");
      } else if (guid === ITEM_VIRTUAL_DISK_SIZE || guid === ITEM_FILE_PARAMETERS) {
        const isSize = guid === ITEM_VIRTUAL_DISK_SIZE;
        if (itemLength < 8 || !inRegion) {
          this.unsafe.push(`VHDX ${isSize ? "virtual disk size" : "file parameters"} item is invalid`);
          continue;
        }
        const label = isSize ? "virtual disk size" : "file parameters";
        if (this.labels.has(label)) {
          this.unsafe.push(`VHDX metadata lists the ${label} twice`);
          continue;
        }
        this.labels.add(label);
        this.cap.capture(regionOffset + itemOffset, 8, label, (b) => {
          if (isSize) {
            this.sawVirtualDiskSize = true;
            this.virtualSize = toSafe(u64le(b, 0));
            if (this.virtualSize === null)
              this.unsafe.push("VHDX virtual disk size is larger than 2^53 bytes");
          } else {
            this.sawFileParameters = true;
            if ((u32le(b, 4) as number) & HAS_PARENT) {
              this.unsafe.push("differencing VHDX (HasParent) reads its data from a parent image");
            }
          }
        });
      }
    }
  }
}

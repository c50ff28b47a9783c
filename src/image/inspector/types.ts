/** Disk formats the inspector understands. */
export type InspectedFormat = "raw" | "qcow2" | "vmdk" | "vhd" | "vhdx" | "vdi" | "iso";

/** What inspection found out about an image's bytes. */
export interface InspectionResult {
  /** The format the bytes really are ("raw" when nothing else matched). */
  format: InspectedFormat;
  /** Virtual (guest-visible) size in bytes, when the format says; raw: the data size. */
  virtualSize: number | null;
  /** Reasons the image is unsafe to use (backing file, external data file, VMDK extents pointing at files, ...). */
  unsafe: string[];
}

/** A streaming inspector: feed every chunk in order, then ask for the result; never buffers the whole image. */
export interface StreamInspector {
  write(chunk: Buffer): void;
  finish(): InspectionResult;
}

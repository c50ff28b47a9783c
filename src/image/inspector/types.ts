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
  /** Bytes fed to the inspector (the upload's real size). */
  actualSize?: number;
  /**
   * Every signature recognised, in order of precedence: inspected formats, other formats qemu would probe and the
   * inspector reports as raw ("qed", "luks", "parallels", "bochs", "cloop"), and partition tables ("mbr", "gpt").
   * Empty for plain raw data. More than one format here (partition tables aside) makes the image unsafe.
   */
  signatures?: string[];
  /** Variant when the format has several: qcow2 "v2"/"v3", VMDK createType, VHD/VDI "fixed"/"dynamic"/..., ISO
   *  "iso9660"/"udf". */
  subformat?: string;
}

/** A streaming inspector: feed every chunk in order, then ask for the result; never buffers the whole image. */
export interface StreamInspector {
  write(chunk: Buffer): void;
  finish(): InspectionResult;
}

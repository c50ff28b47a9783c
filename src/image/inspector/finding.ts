import type { InspectedFormat } from "./types.js";

/** What one format parser concluded about the stream. */
export interface Finding {
  /** The signature that matched: an InspectedFormat, or another format qemu would probe (qed, luks, parallels,
   *  bochs, cloop), which the inspector reports as raw plus this name in `signatures`. */
  name: string;
  /** How the format is reported in InspectionResult.format. */
  format: InspectedFormat;
  virtualSize: number | null;
  unsafe: string[];
  subformat?: string;
}

/** Formats qemu can auto-probe that the inspector recognises but does not report as a format of their own. */
export const OTHER_PROBED = ["qed", "luks", "parallels", "bochs", "cloop"] as const;

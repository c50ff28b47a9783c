/** One entry of a version discovery document. */
export interface VersionEntry {
  id: string;
  status: "CURRENT" | "SUPPORTED" | "DEPRECATED" | "stable";
  /** Link target below the service root, e.g. "v2.1/". */
  path: string;
  updated: string;
  /** Microversion range, for services that have one. */
  minVersion?: string;
  maxVersion?: string;
  mediaType?: string;
}

/** Render one version entry (Nova/Cinder/Glance/Placement style) for a service root URL. */
export function renderVersion(root: string, v: VersionEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    links: [{ rel: "self", href: `${root.replace(/\/$/, "")}/${v.path}` }],
    updated: v.updated,
  };
  if (v.minVersion !== undefined) {
    out.min_version = v.minVersion;
    out.version = v.maxVersion ?? "";
  }
  if (v.mediaType) out["media-types"] = [{ base: "application/json", type: v.mediaType }];
  return out;
}

/** The multiple-choices document listing every version of a service. */
export function versionsDocument(
  root: string,
  versions: VersionEntry[],
): { versions: Array<Record<string, unknown>> } {
  return { versions: versions.map((v) => renderVersion(root, v)) };
}

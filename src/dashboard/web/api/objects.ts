// Typed calls for Object Storage (Swift v1): containers (with their read ACL), objects under a prefix, folders.
import type { Api } from "./client.js";
import { ApiError } from "./errors.js";

/** A container in the account listing. */
export interface Container {
  name: string;
  count: number;
  bytes: number;
}

/** One entry of a container listing under a prefix: an object or a pseudo-folder. */
export type Entry =
  | { kind: "object"; name: string; bytes: number; content_type: string; last_modified: string }
  | { kind: "folder"; name: string };

/** The read ACL that makes a container public (anyone reads objects and lists the container). */
export const PUBLIC_READ = ".r:*,.rlistings";

/** A Swift name as a path: each segment encoded, the slashes kept. */
export const objectPath = (container: string, name = ""): string =>
  `/${encodeURIComponent(container)}${name ? `/${name.split("/").map(encodeURIComponent).join("/")}` : ""}`;

/** Why a container name is refused before sending, or undefined when it is fine. */
export function containerNameError(name: string): string | undefined {
  if (!name) return "Enter a name.";
  if (name.includes("/")) return "A container name cannot contain '/'.";
  if (new TextEncoder().encode(name).length > 256) return "At most 256 bytes.";
  return undefined;
}

const OS = "object-store";

/** How many names a listing page asks for by default. */
export const PAGE_SIZE = 100;

/** What a listing page asks for: names after `marker` that start with `prefix`, at most `limit`. */
export interface PageQuery {
  marker?: string;
  prefix?: string;
  limit?: number;
}

/** One page of a listing: its rows, the marker of the next page (absent on the last), and the server's total. */
export interface Page<T> {
  rows: T[];
  next?: string;
  total?: number;
}

/** A container listing's raw row: an object or (with a delimiter) a pseudo-folder. */
interface RawEntry {
  name?: string;
  subdir?: string;
  bytes?: number;
  content_type?: string;
  last_modified?: string;
}

/** The query of a page: one name more than `limit` is asked for, to know whether another page follows. */
const listQuery = (page: PageQuery, limit: number): string =>
  new URLSearchParams({
    limit: String(limit + 1),
    ...(page.marker ? { marker: page.marker } : {}),
    ...(page.prefix ? { prefix: page.prefix } : {}),
  }).toString();

/** The page out of `limit` + 1 rows: the next page starts after the last row kept, when there was one more. */
function paged<T>(rows: T[], limit: number, nameOf: (r: T) => string, total: string | null): Page<T> {
  const kept = rows.slice(0, limit);
  return {
    rows: kept,
    ...(rows.length > limit && kept.length ? { next: nameOf(kept[kept.length - 1]!) } : {}),
    ...(total !== null && /^\d+$/.test(total) ? { total: Number(total) } : {}),
  };
}

/** A raw row as an entry of the folder `prefix`: none for the folder's own marker object. */
const toEntry = (e: RawEntry, prefix: string): Entry[] =>
  e.subdir !== undefined
    ? [{ kind: "folder", name: e.subdir }]
    : e.name === prefix
      ? []
      : [
          {
            kind: "object",
            name: e.name ?? "",
            bytes: e.bytes ?? 0,
            content_type: e.content_type ?? "",
            last_modified: e.last_modified ?? "",
          },
        ];

/** The Object Storage calls, bound to one Api. */
export function objectCalls(api: Api) {
  return {
    /** One page of the account's containers: names after `marker` starting with `prefix`, and their total. */
    containers: async (page: PageQuery = {}): Promise<Page<Container>> => {
      const limit = page.limit ?? PAGE_SIZE;
      const r = await api.withHeaders<Container[] | undefined>(OS, `?format=json&${listQuery(page, limit)}`);
      return paged(r.body ?? [], limit, (c) => c.name, r.headers.get("x-account-container-count"));
    },
    /** Whether the container is public (its read ACL lets anyone read). */
    isPublic: async (name: string): Promise<boolean> => {
      const { url, headers } = api.prepare(OS, objectPath(name));
      const res = await api.transport.fetch(url, { method: "HEAD", headers });
      if (!res.ok) throw new ApiError(res.status, `The container ${name} could not be read.`, OS);
      return (res.headers.get("x-container-read") ?? "").includes(".r:*");
    },
    createContainer: (name: string, isPublic: boolean): Promise<void> =>
      api.call(OS, objectPath(name), {
        method: "PUT",
        headers: isPublic ? { "x-container-read": PUBLIC_READ } : {},
        raw: true,
      }),
    setPublic: (name: string, isPublic: boolean): Promise<void> =>
      api.call(OS, objectPath(name), {
        method: "POST",
        headers: isPublic ? { "x-container-read": PUBLIC_READ } : { "x-remove-container-read": "x" },
        raw: true,
      }),
    /** Delete an empty container; a non-empty one is refused with a message saying so. */
    deleteContainer: async (name: string): Promise<void> => {
      try {
        await api.del(OS, objectPath(name));
      } catch (e) {
        if (e instanceof ApiError && e.status === 409)
          throw new ApiError(409, `The container ${name} is not empty: delete its objects first.`, OS);
        throw e;
      }
    },
    /** One page of the objects and pseudo-folders directly under `prefix` (which ends with "/" or is empty) whose
     * names start with `prefix` + `page.prefix`, after `page.marker`; `total` counts the whole container. */
    entries: async (container: string, prefix: string, page: PageQuery = {}): Promise<Page<Entry>> => {
      const limit = page.limit ?? PAGE_SIZE;
      const q = listQuery({ ...page, prefix: prefix + (page.prefix ?? "") }, limit);
      const r = await api.withHeaders<RawEntry[] | undefined>(
        OS,
        `${objectPath(container)}?format=json&delimiter=%2F&${q}`,
      );
      const p = paged(
        r.body ?? [],
        limit,
        (e) => e.subdir ?? e.name ?? "",
        r.headers.get("x-container-object-count"),
      );
      return { ...p, rows: p.rows.flatMap((e) => toEntry(e, prefix)) };
    },
    /** Create a pseudo-folder: an empty marker object whose name ends with "/". */
    createFolder: (container: string, path: string): Promise<void> =>
      api.call(OS, objectPath(container, path.endsWith("/") ? path : `${path}/`), {
        method: "PUT",
        body: "",
        contentType: "application/directory",
        raw: true,
      }),
    /** Delete an empty pseudo-folder (its marker object); one with objects in it is refused with a message. */
    deleteFolder: async (container: string, prefix: string): Promise<void> => {
      const inside = ((await api.get(
        OS,
        `${objectPath(container)}?format=json&limit=2&prefix=${encodeURIComponent(prefix)}`,
      )) ?? []) as Array<{ name: string }>;
      if (inside.some((e) => e.name !== prefix))
        throw new ApiError(409, `The folder ${prefix} is not empty: delete its objects first.`, OS);
      if (inside.length) await api.del(OS, objectPath(container, prefix));
    },
    deleteObject: (container: string, name: string) => api.del(OS, objectPath(container, name)),
    /** Fetch an object's content (with the session's token) as a Blob, read as a stream: `onProgress` gets the
     * bytes received and the Content-Length (0 when the answer has none). */
    download: async (
      container: string,
      name: string,
      onProgress: (received: number, total: number) => void = () => {},
    ): Promise<Blob> => {
      const { url, headers } = api.prepare(OS, objectPath(container, name), { accept: "*/*" });
      const res = await api.transport.fetch(url, { headers });
      if (!res.ok) throw new ApiError(res.status, `Could not download ${name} (HTTP ${res.status}).`, OS);
      const total = Number(res.headers.get("content-length") ?? 0) || 0;
      const type = res.headers.get("content-type") ?? "";
      if (!res.body) return res.blob();
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let received = 0;
      onProgress(0, total);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        onProgress(received, total);
      }
      return new Blob(chunks as ConstructorParameters<typeof Blob>[0], { type });
    },
  };
}

/** The Object Storage calls' type. */
export type ObjectCalls = ReturnType<typeof objectCalls>;

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

/** The Object Storage calls, bound to one Api. */
export function objectCalls(api: Api) {
  return {
    containers: async (): Promise<Container[]> => (await api.get(OS, "?format=json&limit=10000")) ?? [],
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
    /** The objects and pseudo-folders directly under `prefix` (which ends with "/" or is empty). */
    entries: async (container: string, prefix: string): Promise<Entry[]> => {
      const list = ((await api.get(
        OS,
        `${objectPath(container)}?format=json&limit=10000&delimiter=%2F&prefix=${encodeURIComponent(prefix)}`,
      )) ?? []) as Array<{
        name?: string;
        subdir?: string;
        bytes?: number;
        content_type?: string;
        last_modified?: string;
      }>;
      return list.flatMap((e): Entry[] =>
        e.subdir !== undefined
          ? [{ kind: "folder", name: e.subdir }]
          : e.name === prefix // the folder's own marker object
            ? []
            : [
                {
                  kind: "object",
                  name: e.name ?? "",
                  bytes: e.bytes ?? 0,
                  content_type: e.content_type ?? "",
                  last_modified: e.last_modified ?? "",
                },
              ],
      );
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
    /** Fetch an object's content (with the session's token) as a Blob. */
    download: async (container: string, name: string): Promise<Blob> => {
      const { url, headers } = api.prepare(OS, objectPath(container, name), { accept: "*/*" });
      const res = await api.transport.fetch(url, { headers });
      if (!res.ok) throw new ApiError(res.status, `Could not download ${name} (HTTP ${res.status}).`, OS);
      return res.blob();
    },
  };
}

/** The Object Storage calls' type. */
export type ObjectCalls = ReturnType<typeof objectCalls>;

// Downloading an object: up to a size the body is streamed into memory with a progress bar (bytes counted against
// Content-Length) and saved as a file; above it the browser saves the object itself through a temporary URL valid
// for a few minutes, so a large object is never held in the page's memory.
import { useMemo, useState } from "react";
import type { Entry } from "../../api/objects.js";
import { tempUrlCalls } from "../../api/tempurl.js";
import { Button, Progress } from "../pf.js";
import { useApi } from "../session.js";
import { useObjectCalls } from "../service-calls.js";
import { download, ErrorAlert, formatBytes, saveLink } from "../ui.js";

/** The largest object read into memory; a larger one is saved by the browser through a temporary URL. */
export const IN_MEMORY_MAX = 32 * 1024 * 1024;

/** How long the temporary URL of a large download stays valid, in seconds (the browser asks at once). */
const LINK_SECONDS = 300;

/** A download under way or done. */
interface DownloadState {
  name: string;
  received: number;
  total: number;
  via: "page" | "browser";
  done: boolean;
  error?: unknown;
}

/** Downloads of `container`'s objects, one at a time, with their state. */
export function useDownload(container: string) {
  const { o } = useObjectCalls();
  const { api } = useApi();
  const t = useMemo(() => tempUrlCalls(api), [api]);
  const [state, setState] = useState<DownloadState | null>(null);
  const busy = !!state && !state.done && !state.error;
  const start = async (e: Entry & { kind: "object" }) => {
    const file = e.name.slice(e.name.lastIndexOf("/") + 1);
    const via = e.bytes > IN_MEMORY_MAX ? "browser" : "page";
    setState({ name: file, received: 0, total: e.bytes, via, done: false });
    try {
      if (via === "browser") {
        const url = await t.sign(await t.key(container), container, e.name, LINK_SECONDS, location.origin);
        saveLink(url, file);
        setState((s) => s && { ...s, done: true });
        return;
      }
      const blob = await o.download(container, e.name, (received, total) =>
        setState((s) => s && { ...s, received, total: total || s.total }),
      );
      download(file, blob);
      setState((s) => s && { ...s, received: blob.size, done: true });
    } catch (error) {
      setState((s) => s && { ...s, error });
    }
  };
  return {
    state,
    busy,
    start: (e: Entry & { kind: "object" }) => void start(e),
    clear: () => setState(null),
  };
}

/** The download's progress bar, or what the browser does with a large one, or why it failed. */
export function DownloadStatus({ download: d }: { download: ReturnType<typeof useDownload> }) {
  const s = d.state;
  if (!s) return null;
  const pct = s.total ? Math.min(100, Math.round((s.received / s.total) * 100)) : s.done ? 100 : 0;
  return (
    <div
      style={{ padding: "0 1.5rem", display: "flex", gap: "1rem", alignItems: "center" }}
      data-testid="object-download"
    >
      {s.error !== undefined ? (
        <ErrorAlert error={s.error} title={`Could not download ${s.name}`} />
      ) : s.via === "browser" ? (
        <span role="status">
          {s.done
            ? `${s.name} (${formatBytes(s.total)}) is being saved by the browser: see its downloads.`
            : `Preparing a download link for ${s.name}...`}
        </span>
      ) : (
        <Progress
          id="object-download-progress"
          style={{ flex: 1 }}
          value={pct}
          title={`Downloading ${s.name}`}
          label={`${formatBytes(s.received)} of ${formatBytes(s.total)}`}
          aria-label="Download progress"
          variant={s.done ? "success" : undefined}
        />
      )}
      {(s.done || !!s.error) && (
        <Button variant="plain" size="sm" onClick={d.clear} aria-label="Dismiss the download status">
          Dismiss
        </Button>
      )}
    </div>
  );
}

// Content-Type detection by file extension, for objects uploaded without one (or with X-Detect-Content-Type).

const TYPES: ReadonlyMap<string, string> = new Map([
  ["txt", "text/plain"],
  ["text", "text/plain"],
  ["log", "text/plain"],
  ["md", "text/markdown"],
  ["csv", "text/csv"],
  ["html", "text/html"],
  ["htm", "text/html"],
  ["css", "text/css"],
  ["js", "text/javascript"],
  ["mjs", "text/javascript"],
  ["json", "application/json"],
  ["xml", "application/xml"],
  ["yaml", "application/yaml"],
  ["yml", "application/yaml"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
  ["tgz", "application/gzip"],
  ["tar", "application/x-tar"],
  ["bz2", "application/x-bzip2"],
  ["xz", "application/x-xz"],
  ["iso", "application/x-iso9660-image"],
  ["qcow2", "application/octet-stream"],
  ["img", "application/octet-stream"],
  ["bin", "application/octet-stream"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["svg", "image/svg+xml"],
  ["webp", "image/webp"],
  ["ico", "image/vnd.microsoft.icon"],
  ["mp3", "audio/mpeg"],
  ["wav", "audio/x-wav"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
  ["py", "text/x-python"],
  ["sh", "application/x-sh"],
]);

/** The media type an object name's extension suggests, or application/octet-stream. */
export function guessContentType(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return "application/octet-stream";
  return TYPES.get(base.slice(dot + 1).toLowerCase()) ?? "application/octet-stream";
}

// Carry the cloud's API into a network namespace: the harness (on the host) serves a unix socket that it pipes to the
// API's loopback port, and this script, run inside the namespace (`stratus public-exec -- node api-forward.mjs PORT
// SOCKET`), listens on the namespace's own 127.0.0.1:PORT and pipes each connection to that socket. Unix sockets are
// files, not network objects, so they cross namespaces; no route or address is added anywhere.
import { createConnection, createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** Pipe two sockets both ways; either one's end or error closes both. */
function splice(a, b) {
  const close = () => (a.destroy(), b.destroy());
  a.on("error", close).on("close", close);
  b.on("error", close).on("close", close);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Listen on `listen` (a unix socket path, or {port, host}) and pipe every connection to `target` (the same forms).
 * Resolves with the listening server once it is ready.
 */
export function forward(listen, target) {
  const server = createServer((c) => splice(c, createConnection(target)));
  return new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(listen, () => res(server));
  });
}

// As a script (inside the namespace): 127.0.0.1:PORT to SOCKET; says "ready" on stdout once it listens.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, socket] = process.argv.slice(2);
  if (!/^\d+$/.test(port ?? "") || !socket) {
    process.stderr.write("usage: api-forward.mjs PORT SOCKET\n");
    process.exit(2);
  }
  await forward({ port: Number(port), host: "127.0.0.1" }, socket);
  process.stdout.write("ready\n");
}

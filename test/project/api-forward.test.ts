// scripts/lib/api-forward.mjs: the tempest harness carries the API's loopback port into the public namespace over a
// unix socket. Here both halves run on the host: an HTTP request to the script's port reaches the server behind the
// harness's half, and the script says "ready" only once it listens.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { ROOT } from "../helpers/stratus-process.js";

interface ApiForward {
  forward(listen: string | { port: number; host: string }, target: unknown): Promise<Server>;
}

/** A free loopback port (bound and released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, "127.0.0.1", res));
  const { port } = s.address() as AddressInfo;
  await new Promise((res) => s.close(res));
  return port;
}

test("a request to the script's port goes through the unix socket to the API's port, both ways", async () => {
  const script = join(ROOT, "scripts", "lib", "api-forward.mjs");
  const { forward } = (await import(pathToFileURL(script).href)) as ApiForward;
  const dir = mkdtempSync(join(tmpdir(), "api-forward-"));
  const api = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => res.end(`${req.method} ${req.url} ${body}`));
  });
  await new Promise<void>((res) => api.listen(0, "127.0.0.1", res));
  const apiPort = (api.address() as AddressInfo).port;
  const sock = join(dir, "api.sock");
  const hostSide = await forward(sock, { port: apiPort, host: "127.0.0.1" });
  const port = await freePort();
  const child = spawn(process.execPath, [script, String(port), sock], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    await new Promise<void>((res, rej) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && res());
      child.on("exit", (code) => rej(new Error(`api-forward exited ${code}`)));
    });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/v3/x?i=${i}`, { method: "POST", body: "hello" });
      assert.equal(await r.text(), `POST /v3/x?i=${i} hello`);
    }
  } finally {
    child.kill();
    hostSide.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the script refuses a missing socket argument or a bad port", async () => {
  const script = join(ROOT, "scripts", "lib", "api-forward.mjs");
  for (const args of [["8080"], ["x", "/tmp/s"]]) {
    const child = spawn(process.execPath, [script, ...args], { stdio: "ignore" });
    const code = await new Promise((res) => child.on("exit", res));
    assert.equal(code, 2, args.join(" "));
  }
});

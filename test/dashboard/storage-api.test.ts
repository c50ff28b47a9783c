// The dashboard's Block Storage, Object Storage and router calls (src/dashboard/web/api) against an in-process
// cloud, without a browser: the pinned volume microversion, Cinder's own refusal, object names encoded per segment,
// public/private containers through the read ACL, folders (the marker object hidden in its own listing), the
// messages for a non-empty container or folder, listings paged by the server (marker, limit, prefix, counts), a
// download's progress, and router1's interface on the private subnet.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";
import type { ApiError } from "../../src/dashboard/web/api/index.js";
import {
  Api,
  containerNameError,
  login,
  objectCalls,
  objectPath,
  routerCalls,
  volumeCalls,
  type Transport,
} from "../../src/dashboard/web/api/index.js";
import { until } from "../helpers/wait.js";

describe("dashboard storage and router API calls", () => {
  let t: TestCloud;
  let api: Api;
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];

  before(async () => {
    t = await bootCloud();
    const transport: Transport = {
      baseUrl: "",
      fetch: (async (input: string, init: RequestInit = {}) => {
        const headers = { ...((init.headers ?? {}) as Record<string, string>) };
        seen.push({ url: input, headers });
        // As a browser does: a PUT or POST states its length, an empty one 0 (Swift answers 411 otherwise).
        if (init.method === "PUT" || init.method === "POST")
          headers["content-length"] = String(Buffer.byteLength((init.body as string | undefined) ?? ""));
        const r = await t.cloud.app.inject({
          method: (init.method ?? "GET") as any,
          url: input,
          headers,
          ...(init.body !== undefined ? { payload: init.body as string } : {}),
        });
        return new Response(
          [204, 304].includes(r.statusCode) || init.method === "HEAD" ? null : r.rawPayload,
          {
            status: r.statusCode,
            headers: Object.entries(r.headers).map(([k, v]) => [k, String(v)]) as [string, string][],
          },
        );
      }) as typeof fetch,
    };
    api = new Api(
      (await login(transport, "Default", "demo", t.cloud.demoPassword, "demo")).session,
      transport,
    );
  });
  after(async () => {
    await t?.close();
  });

  test("names: object paths keep their slashes and encode each segment; container names are checked", () => {
    assert.equal(objectPath("c 1", "a b/ü?.txt"), "/c%201/a%20b/%C3%BC%3F.txt");
    assert.equal(objectPath("c"), "/c");
    assert.equal(containerNameError(""), "Enter a name.");
    assert.match(containerNameError("a/b")!, /cannot contain '\/'/);
    assert.match(containerNameError("x".repeat(257))!, /256 bytes/);
    assert.equal(containerNameError("ok"), undefined);
  });

  test("volumes: the pinned microversion, types and zones, create, and Cinder's own refusal", async () => {
    const v = volumeCalls(api);
    assert.ok((await v.types()).length > 0);
    assert.ok((await v.zones()).length > 0);
    const made = await v.createVolume({ name: "api-vol", description: "", size: 1 });
    assert.equal(seen.at(-1)?.headers["openstack-api-version"], "volume 3.59");
    await until("api-vol available", async () =>
      (await v.volumes()).some((x) => x.id === made.id && x.status === "available"),
    );
    await assert.rejects(
      v.extendVolume(made.id, 1),
      (e: ApiError) => e.status === 400 && e.service === "block-storage" && e.message.length > 0,
    );
    await v.deleteVolume(made.id);
  });

  test("containers and folders: public read ACL, the folder marker hidden, non-empty ones refused with a message", async () => {
    const o = objectCalls(api);
    await o.createContainer("api-pub", true);
    await o.createContainer("api-priv", false);
    assert.equal(await o.isPublic("api-pub"), true);
    assert.equal(await o.isPublic("api-priv"), false);
    await o.setPublic("api-pub", false);
    assert.equal(await o.isPublic("api-pub"), false);
    await o.createFolder("api-priv", "dir");
    await api.call("object-store", objectPath("api-priv", "dir/a b.txt"), {
      method: "PUT",
      body: "hi",
      raw: true,
    });
    await api.call("object-store", objectPath("api-priv", "top.txt"), {
      method: "PUT",
      body: "x",
      raw: true,
    });
    assert.deepEqual(
      (await o.entries("api-priv", "")).rows.map((e) => [e.kind, e.name]),
      [
        ["folder", "dir/"],
        ["object", "top.txt"],
      ],
    );
    assert.deepEqual(
      (await o.entries("api-priv", "dir/")).rows.map((e) => [e.kind, e.name]),
      [["object", "dir/a b.txt"]],
    );
    assert.equal(await (await o.download("api-priv", "dir/a b.txt")).text(), "hi");
    await assert.rejects(o.deleteFolder("api-priv", "dir/"), /The folder dir\/ is not empty/);
    await assert.rejects(o.deleteContainer("api-priv"), (e: ApiError) =>
      /The container api-priv is not empty: delete its objects first\./.test(e.message),
    );
    await o.deleteObject("api-priv", "dir/a b.txt");
    await o.deleteObject("api-priv", "top.txt");
    await o.deleteFolder("api-priv", "dir/");
    assert.deepEqual((await o.entries("api-priv", "")).rows, []);
    await o.deleteContainer("api-priv");
    await o.deleteContainer("api-pub");
    assert.deepEqual(
      (await o.containers()).rows.map((c) => c.name),
      [],
    );
  });

  test("listings are paged by the server: marker, limit, the filter as a prefix, the counts; downloads report progress", async () => {
    const o = objectCalls(api);
    const put = (name: string, body: string) =>
      api.call("object-store", objectPath("api-many", name), { method: "PUT", body, raw: true });
    await o.createContainer("api-many", false);
    await o.createContainer("api-more", false);
    const names = Array.from({ length: 120 }, (_, i) => `o-${String(i).padStart(3, "0")}`);
    for (const n of names) await put(n, n);
    await put("sub/inside", "x");
    const walked: string[] = [];
    const sizes: number[] = [];
    let marker: string | undefined;
    let total: number | undefined;
    do {
      const page = await o.entries("api-many", "", { limit: 50, ...(marker ? { marker } : {}) });
      walked.push(...page.rows.map((e) => e.name));
      sizes.push(page.rows.length);
      total = page.total;
      marker = page.next;
    } while (marker);
    assert.deepEqual(sizes, [50, 50, 21]);
    assert.deepEqual(walked, [...names, "sub/"]);
    assert.equal(total, 121, "X-Container-Object-Count counts the whole container");
    const filtered = await o.entries("api-many", "", { limit: 5, prefix: "o-11" });
    assert.deepEqual(
      filtered.rows.map((e) => e.name),
      names.slice(110, 115),
    );
    assert.equal(filtered.next, "o-114");
    assert.ok(seen.at(-1)?.url.includes("prefix=o-11"), "the filter is sent to the server");
    const inSub = await o.entries("api-many", "sub/", { limit: 5, prefix: "in" });
    assert.deepEqual(
      inSub.rows.map((e) => e.name),
      ["sub/inside"],
    );
    assert.equal(inSub.next, undefined);

    const first = await o.containers({ limit: 1, prefix: "api-m" });
    assert.deepEqual(
      first.rows.map((c) => c.name),
      ["api-many"],
    );
    assert.equal(first.next, "api-many");
    assert.ok((first.total ?? 0) >= 2, "X-Account-Container-Count");
    const second = await o.containers({ limit: 1, prefix: "api-m", marker: first.next! });
    assert.deepEqual(
      second.rows.map((c) => c.name),
      ["api-more"],
    );
    assert.equal(second.next, undefined);

    const big = Buffer.alloc(1024 * 1024 + 7, 3).toString("latin1");
    await put("big.bin", big);
    const steps: Array<[number, number]> = [];
    const blob = await o.download("api-many", "big.bin", (got, of) => steps.push([got, of]));
    assert.equal(blob.size, big.length);
    assert.deepEqual(
      steps.at(-1),
      [big.length, big.length],
      "the last step has every byte, of Content-Length",
    );
    assert.deepEqual(steps[0], [0, big.length]);

    for (const n of [...names, "sub/inside", "big.bin"]) await o.deleteObject("api-many", n);
    await o.deleteContainer("api-many");
    await o.deleteContainer("api-more");
  });

  test("routers: router1 has its gateway on public and an interface on the private subnet", async () => {
    const rt = routerCalls(api);
    const r1 = (await rt.routers()).find((r) => r.name === "router1");
    assert.ok(r1?.external_gateway_info?.network_id);
    const ifaces = (await rt.interfaces()).filter((i) => i.router === r1.id);
    assert.equal(ifaces.length, 1);
    assert.match(ifaces[0].ip, /^\d+\.\d+\.\d+\.\d+$/);
  });
});

// Servers end to end in one process: API → conductor → scheduler (placement) → agent (fake driver). The same
// cases run on the in-process bus (servers.test.ts) and on RabbitMQ (servers-amqp.test.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../../helpers/wait.js";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

/** The servers cases over the bus `busUrl()` returns (called in before()); null skips them with `skip()`. */
export function serverCases(name: string, busUrl: () => Promise<string | null>, skip: () => string | null) {
  describe(name, () => {
    let c: ComputeCloud;
    before(async () => {
      const bus = await busUrl();
      if (bus === null) return;
      c = await bootCompute({ compute: { hosts: 2 }, config: { bus } });
    });
    after(() => c?.close());
    const it2 = (title: string, fn: () => Promise<void>) =>
      it(title, (t) => {
        const why = skip();
        if (why) return t.skip(why);
        return fn();
      });

    it2("creates a server that becomes ACTIVE on a host, with a placement allocation", async () => {
      const id = await c.createServer(c.demo, { name: "web-1", metadata: { role: "web" } });
      const s = await c.waitStatus(c.demo, id, "ACTIVE");
      assert.equal(s.name, "web-1");
      assert.deepEqual(s.metadata, { role: "web" });
      assert.equal(s["OS-EXT-STS:vm_state"], "active");
      assert.equal(s["OS-EXT-STS:power_state"], 1);
      assert.equal(s["OS-EXT-STS:task_state"], null);
      assert.equal(s["OS-EXT-AZ:availability_zone"], "nova");
      assert.equal(s.flavor.original_name, "m1.nano");
      assert.match(s.hostId, /^[0-9a-f]{56}$/);
      assert.equal(s["OS-EXT-SRV-ATTR:host"], undefined, "host is admin-only");
      const asAdmin = await c.req("GET", `/v2.1/servers/${id}`, { token: c.admin, mv: "2.93" });
      assert.match(asAdmin.body.server["OS-EXT-SRV-ATTR:host"], /^compute1/);
      const alloc = await c.t.cloud.app.inject({
        method: "GET",
        url: `/placement/allocations/${id}`,
        headers: { "x-auth-token": c.admin, "openstack-api-version": "placement 1.39" },
      });
      const allocs = JSON.parse(alloc.payload).allocations;
      const [rp] = Object.values(allocs) as Array<{ resources: Record<string, number> }>;
      assert.deepEqual(rp.resources, { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 });
    });

    it2("lists servers brief and detailed, filters by name and status, pages with links", async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await c.createServer(c.demo, { name: `page-${i}` }));
      for (const id of ids) await c.waitStatus(c.demo, id, "ACTIVE");
      const brief = await c.req("GET", "/v2.1/servers?name=^page-", { token: c.demo });
      assert.equal(brief.status, 200);
      assert.equal(brief.body.servers.length, 3);
      assert.deepEqual(Object.keys(brief.body.servers[0]).sort(), ["id", "links", "name"]);
      const page = await c.req("GET", "/v2.1/servers/detail?name=page&limit=2", { token: c.demo });
      assert.equal(page.body.servers.length, 2);
      assert.match(page.body.servers_links[0].href, /marker=/);
      const next = new URL(page.body.servers_links[0].href);
      const rest = await c.req("GET", `/v2.1/servers/detail${next.search}`, { token: c.demo });
      assert.equal(rest.body.servers.length, 1);
      const active = await c.req("GET", "/v2.1/servers?status=ACTIVE", { token: c.demo });
      assert.ok(active.body.servers.length >= 3);
      const none = await c.req("GET", "/v2.1/servers?status=SHUTOFF", { token: c.demo });
      assert.equal(none.body.servers.length, 0);
      const bad = await c.req("GET", "/v2.1/servers?marker=nope", { token: c.demo });
      assert.equal(bad.status, 400);
    });

    it2("walks every server with limit and marker, each exactly once, in the default order", async () => {
      const all = (await c.req("GET", "/v2.1/servers", { token: c.demo })).body.servers.map((s: any) => s.id);
      assert.ok(all.length >= 3);
      const seen: string[] = [];
      let url = "/v2.1/servers?limit=2";
      for (let i = 0; i < 50 && url; i++) {
        const page = await c.req("GET", url, { token: c.demo });
        seen.push(...page.body.servers.map((s: any) => s.id));
        const next = page.body.servers_links?.[0]?.href;
        url = next ? `/v2.1/servers${new URL(next).search}` : "";
      }
      assert.deepEqual(seen, all);
    });

    it2("keeps projects apart; all_tenants is for admins", async () => {
      const id = await c.createServer(c.demo, { name: "private" });
      await c.waitStatus(c.demo, id, "ACTIVE");
      const adminList = await c.req("GET", "/v2.1/servers", { token: c.admin });
      assert.ok(!adminList.body.servers.some((s: any) => s.id === id));
      const all = await c.req("GET", "/v2.1/servers?all_tenants=1", { token: c.admin });
      assert.ok(all.body.servers.some((s: any) => s.id === id));
      const demoAll = await c.req("GET", "/v2.1/servers?all_tenants=1", { token: c.demo });
      assert.ok(demoAll.body.servers.every((s: any) => s.id !== undefined));
      const ownAdmin = await c.createServer(c.admin, { name: "admins" });
      assert.equal((await c.req("GET", `/v2.1/servers/${ownAdmin}`, { token: c.demo })).status, 404);
    });

    it2("updates name and description, manages metadata and tags", async () => {
      const id = await c.createServer(c.demo, { name: "upd" });
      await c.waitStatus(c.demo, id, "ACTIVE");
      const u = await c.req("PUT", `/v2.1/servers/${id}`, {
        token: c.demo,
        mv: "2.19",
        body: { server: { name: "renamed", description: "hello" } },
      });
      assert.equal(u.status, 200);
      assert.equal(u.body.server.name, "renamed");
      assert.equal(u.body.server.description, "hello");
      const bad = await c.req("PUT", `/v2.1/servers/${id}`, {
        token: c.demo,
        body: { server: { bogus: 1 } },
      });
      assert.equal(bad.status, 400);
      assert.equal(
        (
          await c.req("POST", `/v2.1/servers/${id}/metadata`, {
            token: c.demo,
            body: { metadata: { a: "1" } },
          })
        ).body.metadata.a,
        "1",
      );
      assert.equal(
        (await c.req("PUT", `/v2.1/servers/${id}/metadata/b`, { token: c.demo, body: { meta: { b: "2" } } }))
          .status,
        200,
      );
      assert.deepEqual(
        (await c.req("GET", `/v2.1/servers/${id}/metadata`, { token: c.demo })).body.metadata,
        {
          a: "1",
          b: "2",
        },
      );
      assert.equal((await c.req("DELETE", `/v2.1/servers/${id}/metadata/a`, { token: c.demo })).status, 204);
      assert.equal((await c.req("GET", `/v2.1/servers/${id}/metadata/a`, { token: c.demo })).status, 404);
      assert.equal(
        (await c.req("PUT", `/v2.1/servers/${id}/tags/blue`, { token: c.demo, mv: "2.26" })).status,
        201,
      );
      assert.equal(
        (await c.req("PUT", `/v2.1/servers/${id}/tags/blue`, { token: c.demo, mv: "2.26" })).status,
        204,
      );
      const tagged = await c.req("GET", "/v2.1/servers?tags=blue", { token: c.demo, mv: "2.26" });
      assert.deepEqual(
        tagged.body.servers.map((s: any) => s.id),
        [id],
      );
      assert.equal(
        (await c.req("GET", `/v2.1/servers/${id}/tags`, { token: c.demo })).status,
        404,
        "tags need 2.26",
      );
    });

    it2("deletes a server: 204, gone, allocation freed, listed as deleted with changes-since", async () => {
      const id = await c.createServer(c.demo, { name: "doomed" });
      await c.waitStatus(c.demo, id, "ACTIVE");
      assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
      await c.waitGone(c.demo, id);
      const alloc = await c.t.cloud.app.inject({
        method: "GET",
        url: `/placement/allocations/${id}`,
        headers: { "x-auth-token": c.admin, "openstack-api-version": "placement 1.39" },
      });
      assert.deepEqual(JSON.parse(alloc.payload).allocations, {});
      const since = await c.req("GET", "/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z", {
        token: c.demo,
      });
      const gone = since.body.servers.find((s: any) => s.id === id);
      assert.equal(gone.status, "DELETED");
    });

    it2("rejects bad create requests with 400 and never builds them", async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ flavorRef: "nope" }, /Flavor nope could not be found/],
        [{ imageRef: "6b1f3c5e-0000-4000-8000-000000000000" }, /could not be found/],
        [{ key_name: "missing" }, /Invalid key_name/],
        [{ name: "" }, /name/],
        [{ bogus: true }, /Additional properties/],
        [{ user_data: "not base64!!" }, /base 64/],
        [{ min_count: 3, max_count: 2 }, /min_count/],
      ];
      for (const [extra, msg] of cases) {
        const r = await c.req("POST", "/v2.1/servers", {
          token: c.demo,
          mv: "2.37",
          body: { server: { name: "x", imageRef: c.imageId, flavorRef: "42", networks: "none", ...extra } },
        });
        assert.equal(r.status, 400, JSON.stringify(extra));
        assert.match(r.body.badRequest.message, msg);
      }
      const noNet = await c.req("POST", "/v2.1/servers", {
        token: c.demo,
        mv: "2.37",
        body: { server: { name: "x", imageRef: c.imageId, flavorRef: "42" } },
      });
      assert.equal(noNet.status, 400);
    });

    it2("enforces the instances/cores/ram quota with Nova's 403 message", async () => {
      const project = await c.t.projectId("demo");
      await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
        token: c.admin,
        body: { quota_set: { cores: 0, force: true } },
      });
      const r = await c.req("POST", "/v2.1/servers", {
        token: c.demo,
        mv: "2.37",
        body: { server: { name: "q", imageRef: c.imageId, flavorRef: "42", networks: "none" } },
      });
      assert.equal(r.status, 403);
      assert.match(
        r.body.forbidden.message,
        /Quota exceeded for cores: Requested 1, but already used \d+ of 0 cores/,
      );
      await c.req("DELETE", `/v2.1/os-quota-sets/${project}`, { token: c.admin });
    });

    it2("creates several servers with min/max count and a reservation id", async () => {
      const r = await c.req("POST", "/v2.1/servers", {
        token: c.demo,
        mv: "2.37",
        body: {
          server: {
            name: "multi",
            imageRef: c.imageId,
            flavorRef: "42",
            networks: "none",
            min_count: 2,
            max_count: 3,
            return_reservation_id: true,
          },
        },
      });
      assert.equal(r.status, 202);
      assert.match(r.body.reservation_id, /^r-/);
      const list = await c.req("GET", `/v2.1/servers/detail?reservation_id=${r.body.reservation_id}`, {
        token: c.demo,
      });
      assert.deepEqual(list.body.servers.map((s: any) => s.name).sort(), ["multi-1", "multi-2", "multi-3"]);
      for (const s of list.body.servers) await c.waitStatus(c.demo, s.id, "ACTIVE");
    });

    it2("puts a server that fits nowhere in ERROR with a plain-words fault", async () => {
      const flavor = await c.req("POST", "/v2.1/flavors", {
        token: c.admin,
        body: { flavor: { name: "huge", ram: 10_000_000, vcpus: 1, disk: 1, id: "huge" } },
      });
      assert.equal(flavor.status, 200);
      const project = await c.t.projectId("admin");
      await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
        token: c.admin,
        body: { quota_set: { ram: -1 } },
      });
      const id = await c.createServer(c.admin, { name: "toobig", flavorRef: "huge" });
      // The conductor records the fault just after it sets ERROR: wait for both.
      await eventually(async () => {
        const s = await c.waitStatus(c.admin, id, "ERROR");
        assert.match(s.fault?.message ?? "", /^No valid host was found\. 0 of 2 hosts/);
        assert.match(s.fault.message, /MB RAM|MEMORY_MB/);
      });
      assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.admin })).status, 204);
      await c.waitGone(c.admin, id);
    });
  });
}

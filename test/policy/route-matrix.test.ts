// Persona x route matrix: every route of every mounted service, called as each persona, must be refused by policy
// (403, or 401 for anonymous) exactly when route-matrix.ts says so. A route without an entry, or an entry naming
// no route, fails the test. STRATUS_RBAC_RECORD=FILE writes what was observed (to review, never to paste blindly).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { listRoutes, type MountedRoute } from "../../src/shared/http/route-list.js";
import { bootCompute, type ComputeCloud } from "../compute/api/helpers.js";
import { MATRIX, PERSONAS, parseAllowed, type Persona } from "./route-matrix.js";

/** Routes run in this order so deletions come last: reads, then writes, then DELETE (sub-resources first). */
const ORDER = ["GET", "HEAD", "COPY", "POST", "PUT", "PATCH", "DELETE"];
/** Refused personas are asked first, so an allowed delete cannot hide a refusal behind a 404. */
const ASK_ORDER: Persona[] = ["AN", "O", "R", "SR", "M", "PM", "PA", "SA"];

interface Fixtures {
  tokens: Map<Persona, string | undefined>;
  params: (r: MountedRoute, name: string) => string;
}

async function setup(c: ComputeCloud): Promise<Fixtures> {
  const t = c.t;
  const admin = c.admin;
  /** A request on the shared listener (path with its service prefix; identity paths may omit it). */
  const must = async (
    method: string,
    path: string,
    body: unknown,
    want: number[],
    token = admin,
    extra: Record<string, string> = {},
  ) => {
    const url = /^\/(image|compute|placement|networking|object-store|volume)\//.test(path)
      ? path
      : `/identity${path}`;
    const r = await t.cloud.app.inject({
      method: method as "GET",
      url,
      headers: {
        "x-auth-token": token,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...extra,
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (!want.includes(r.statusCode)) throw new Error(`${method} ${path}: ${r.statusCode} ${r.payload}`);
    return r.payload ? JSON.parse(r.payload) : undefined;
  };
  const role = async (name: string) => t.roleId(name);
  const alpha = (await t.createProject("alpha")).id as string;
  const beta = (await t.createProject("beta")).id as string;
  const victimProject = (await t.createProject("victim")).id as string;
  const pw = "Passw0rd-matrix";
  const user = async (name: string) => (await t.createUser(name, pw)).id as string;
  const grant = (scope: string, uid: string, rid: string) =>
    must("PUT", `/v3/${scope}/users/${uid}/roles/${rid}`, undefined, [204]);
  const users = {
    SR: await user("m-sreader"),
    PA: await user("m-padmin"),
    PM: await user("m-pmanager"),
    M: await user("m-member"),
    R: await user("m-reader"),
    O: await user("m-other"),
  };
  await grant("system", users.SR, await role("reader"));
  await grant(`projects/${alpha}`, users.PA, await role("admin"));
  await grant(`projects/${alpha}`, users.PM, await role("manager"));
  await grant(`projects/${alpha}`, users.M, await role("member"));
  await grant(`projects/${alpha}`, users.R, await role("reader"));
  await grant(`projects/${beta}`, users.O, await role("member"));
  const victimUser = await user("m-victim");
  const victimRole = (await must("POST", "/v3/roles", { role: { name: "m-victim-role" } }, [201])).role.id;
  const victimGroup = (
    await must("POST", "/v3/groups", { group: { name: "m-victim", domain_id: "default" } }, [201])
  ).group.id;
  const victimDomain = (await must("POST", "/v3/domains", { domain: { name: "m-victim-domain" } }, [201]))
    .domain.id;
  const region = (await must("POST", "/v3/regions", { region: { id: "m-region" } }, [201])).region.id;
  const service = (await must("POST", "/v3/services", { service: { type: "m-svc", name: "m-svc" } }, [201]))
    .service.id;

  const tokens = new Map<Persona, string | undefined>();
  tokens.set("SA", await t.token("admin", t.cloud.adminPassword, { system: { all: true } }));
  tokens.set("SR", await t.token("m-sreader", pw, { system: { all: true } }));
  const alphaScope = { project: { id: alpha } };
  tokens.set("PA", await t.token("m-padmin", pw, alphaScope));
  tokens.set("PM", await t.token("m-pmanager", pw, alphaScope));
  tokens.set("M", await t.token("m-member", pw, alphaScope));
  tokens.set("R", await t.token("m-reader", pw, alphaScope));
  tokens.set("O", await t.token("m-other", pw, { project: { id: beta } }));
  tokens.set("AN", undefined);

  // Compute and image resources in alpha, made by its member.
  const member = tokens.get("M")!;
  const server = await c.createServer(member, { name: "matrix" });
  await c.waitStatus(member, server, "ACTIVE");
  const group = (
    await c.req("POST", "/v2.1/os-server-groups", {
      token: member,
      body: { server_group: { name: "g", policies: ["affinity"] } },
    })
  ).body.server_group.id as string;
  const img = await must(
    "POST",
    "/image/v2/images",
    { name: "m-img", disk_format: "raw", container_format: "bare" },
    [201],
    member,
  );
  const image = img.id as string;
  const up = await t.cloud.app.inject({
    method: "PUT",
    url: `/image/v2/images/${image}/file`,
    headers: { "x-auth-token": member, "content-type": "application/octet-stream" },
    payload: Buffer.alloc(1024),
  });
  if (up.statusCode !== 204) throw new Error(`image upload: ${up.statusCode} ${up.payload}`);
  const agg = (await must("POST", "/compute/v2.1/os-aggregates", { aggregate: { name: "m-agg" } }, [200]))
    .aggregate.id as number;
  const NS = "/image/v2/metadefs/namespaces";
  await must("POST", NS, { namespace: "m-ns", visibility: "public" }, [201]);
  await must("POST", `${NS}/m-ns/objects`, { name: "m-obj" }, [201]);
  await must("POST", `${NS}/m-ns/properties`, { name: "m-prop", title: "p", type: "string" }, [201]);
  await must("POST", `${NS}/m-ns/tags/m-tag`, undefined, [201]);
  await must("POST", `${NS}/m-ns/resource_types`, { name: "OS::Nova::Server" }, [201]);
  // Network resources in alpha, made by its member; an RBAC entry shares the network with beta's neighbour.
  const N = "/networking/v2.0";
  const network = (await must("POST", `${N}/networks`, { network: { name: "m-net" } }, [201], member)).network
    .id;
  const subnet = (
    await must(
      "POST",
      `${N}/subnets`,
      { subnet: { network_id: network, ip_version: 4, cidr: "10.66.0.0/24" } },
      [201],
      member,
    )
  ).subnet.id;
  const port = (await must("POST", `${N}/ports`, { port: { network_id: network } }, [201], member)).port.id;
  const pool = (
    await must(
      "POST",
      `${N}/subnetpools`,
      { subnetpool: { name: "m-pool", prefixes: ["10.67.0.0/16"] } },
      [201],
      member,
    )
  ).subnetpool.id;
  const rbac = (
    await must(
      "POST",
      `${N}/rbac-policies`,
      {
        rbac_policy: {
          object_type: "network",
          object_id: network,
          action: "access_as_shared",
          target_tenant: victimProject,
        },
      },
      [201],
      member,
    )
  ).rbac_policy.id;
  await must("PUT", `${N}/networks/${network}/tags/m-tag`, undefined, [201], member);
  // L3 in alpha: a router from the subnet to public, a port behind it, a floating IP with a port forwarding.
  const publicNet = (await must("GET", `${N}/networks?name=public`, undefined, [200])).networks[0]
    .id as string;
  const router = (
    await must(
      "POST",
      `${N}/routers`,
      { router: { name: "m-router", external_gateway_info: { network_id: publicNet } } },
      [201],
      member,
    )
  ).router.id as string;
  await must("PUT", `${N}/routers/${router}/add_router_interface`, { subnet_id: subnet }, [200], member);
  const portIp = (await must("GET", `${N}/ports/${port}`, undefined, [200])).port.fixed_ips[0]
    .ip_address as string;
  const fip = (
    await must("POST", `${N}/floatingips`, { floatingip: { floating_network_id: publicNet } }, [201], member)
  ).floatingip.id as string;
  const forwarding = (
    await must(
      "POST",
      `${N}/floatingips/${fip}/port_forwardings`,
      {
        port_forwarding: {
          internal_port_id: port,
          internal_ip_address: portIp,
          internal_port: 22,
          external_port: 2200,
          protocol: "tcp",
        },
      },
      [201],
      member,
    )
  ).port_forwarding.id as string;
  const sg = (await must("POST", `${N}/security-groups`, { security_group: { name: "m-sg" } }, [201], member))
    .security_group.id as string;
  const sgRule = (
    await must(
      "POST",
      `${N}/security-group-rules`,
      { security_group_rule: { security_group_id: sg, direction: "ingress", protocol: "tcp" } },
      [201],
      member,
    )
  ).security_group_rule.id as string;
  const agent = (await must("GET", `${N}/agents`, undefined, [200])).agents[0].id as string;
  // Block storage in alpha, made by its member: an available volume with metadata, a snapshot, an attachment;
  // a private volume type (with an extra spec) and QoS specs made by the admin.
  const VV = `/volume/v3/${alpha}`;
  const volume = (
    await must("POST", `${VV}/volumes`, { volume: { size: 1, metadata: { k: "v" } } }, [202], member)
  ).volume.id as string;
  for (let i = 0; i < 1000; i++) {
    const v = await must("GET", `${VV}/volumes/${volume}`, undefined, [200], member);
    if (v.volume.status === "available") break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const snapshot = (
    await must(
      "POST",
      `${VV}/snapshots`,
      { snapshot: { volume_id: volume, metadata: { k: "v" } } },
      [202],
      member,
    )
  ).snapshot.id as string;
  const backup = (
    await must("POST", `${VV}/backups`, { backup: { volume_id: volume, name: "m-bak" } }, [202], member)
  ).backup.id as string;
  for (let i = 0; i < 1000; i++) {
    const b = await must("GET", `${VV}/backups/${backup}`, undefined, [200], member);
    if (b.backup.status === "available") break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const adminVV = `/volume/v3/${await t.projectId("admin")}`;
  const vtype = (
    await must(
      "POST",
      `${adminVV}/types`,
      { volume_type: { name: "m-type", extra_specs: { k: "v" } } },
      [200],
    )
  ).volume_type.id as string;
  const qos = (await must("POST", `${adminVV}/qos-specs`, { qos_specs: { name: "m-qos", k: "v" } }, [200]))
    .qos_specs.id as string;
  // A group type (admin), a group of alpha with the volume type, and a snapshot of that (empty) group (3.14+).
  const groupsMv = { "openstack-api-version": "volume 3.44" };
  const gtype = (
    await must(
      "POST",
      `${adminVV}/group_types`,
      { group_type: { name: "m-gtype", group_specs: { k: "v" } } },
      [202],
      admin,
      groupsMv,
    )
  ).group_type.id as string;
  const vgroup = (
    await must(
      "POST",
      `${VV}/groups`,
      { group: { group_type: gtype, volume_types: [vtype] } },
      [202],
      member,
      groupsMv,
    )
  ).group.id as string;
  const gsnap = (
    await must(
      "POST",
      `${VV}/group_snapshots`,
      { group_snapshot: { group_id: vgroup } },
      [202],
      member,
      groupsMv,
    )
  ).group_snapshot.id as string;
  const attachRes = await t.cloud.app.inject({
    method: "POST",
    url: `${VV}/attachments`,
    headers: {
      "x-auth-token": member,
      "content-type": "application/json",
      "openstack-api-version": "volume 3.44",
    },
    payload: JSON.stringify({ attachment: { volume_uuid: volume } }),
  });
  if (attachRes.statusCode !== 200)
    throw new Error(`attachment: ${attachRes.statusCode} ${attachRes.payload}`);
  const attachment = JSON.parse(attachRes.payload).attachment.id as string;
  // Pending transfers of other volumes of alpha (accepting with a wrong key is a policy question only), one per
  // collection since each collection's DELETE cancels its own.
  const pendingTransfer = async () => {
    const given = (await must("POST", `${VV}/volumes`, { volume: { size: 1 } }, [202], member)).volume
      .id as string;
    for (let i = 0; i < 1000; i++) {
      const v = await must("GET", `${VV}/volumes/${given}`, undefined, [200], member);
      if (v.volume.status === "available") break;
      await new Promise((res) => setTimeout(res, 20));
    }
    return (await must("POST", `${VV}/os-volume-transfer`, { transfer: { volume_id: given } }, [202], member))
      .transfer.id as string;
  };
  const transfer = await pendingTransfer();
  const newTransfer = await pendingTransfer();
  // A disabled domain, so that deleting it is a policy question only.
  await must("PATCH", `/v3/domains/${victimDomain}`, { domain: { enabled: false } }, [200]);

  const byName = new Map<string, string>([
    ["server_id", server],
    ["image_id", image],
    ["member_id", beta],
    ["user_id", victimUser],
    ["group_id", victimGroup],
    ["role_id", victimRole],
    ["prior_role_id", victimRole],
    ["implied_role_id", victimRole],
    ["domain_id", victimDomain],
    ["region_id", region],
    ["service_id", service],
    ["tenant_id", alpha],
    ["uuid", server],
    ["consumer_uuid", server],
    ["group", "identity"],
    ["option", "driver"],
    ["alpha", alpha],
    ["namespace", "m-ns"],
    ["object_name", "m-obj"],
    ["property_name", "m-prop"],
    ["tag_name", "m-tag"],
    ["resource_type", "OS::Nova::Server"],
    ["network_id", network],
    ["subnet_id", subnet],
    ["port_id", port],
    ["subnetpool_id", pool],
    ["rbac_policy_id", rbac],
    ["security_group_id", sg],
    ["security_group_rule_id", sgRule],
    ["agent_id", agent],
    ["router_id", router],
    ["floatingip_id", fip],
    ["port_forwarding_id", forwarding],
    ["public_id", publicNet],
    ["port_ip", portIp],
    ["alias", "quotas"],
    ["resource", "networks"],
    ["resource_id", network],
    ["tag", "m-tag"],
    ["account", `AUTH_${alpha}`],
    ["volume_id", volume],
    ["snapshot_id", snapshot],
    ["backup_id", backup],
    ["attachment_id", attachment],
    ["transfer_id", transfer],
    ["type_id", vtype],
    ["qos_id", qos],
    ["group_type_id", gtype],
    ["group_snapshot_id", gsnap],
    ["class_name", "default"],
    ["action", "enable"],
  ]);
  const params = (r: MountedRoute, name: string): string => {
    const svc = r.service.name;
    if (name === "project_id" || name === "target_id")
      return svc === "identity" && !/\/roles/.test(r.path) ? victimProject : alpha;
    if (name === "actor_id") return r.path.includes("/groups/:actor_id") ? victimGroup : victimUser;
    if (svc === "compute" && name === "id") {
      if (r.path.includes("/servers/")) return server;
      if (r.path.includes("os-server-groups")) return group;
      if (r.path.includes("os-aggregates")) return String(agg);
      if (r.path.includes("/images")) return c.imageId;
      if (r.path.includes("os-quota")) return alpha;
      if (r.path.includes("/flavors")) return "42";
    }
    if (svc === "compute" && name === "flavor_id") return "42";
    if (name === "transfer_id" && r.path.includes("/volume-transfers/")) return newTransfer;
    if (svc === "volume" && name === "group_id") return vgroup;
    return byName.get(name) ?? `m-${name}`;
  };
  return { tokens, params };
}

function fillPath(r: MountedRoute, value: (name: string) => string): string {
  return r.path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => encodeURIComponent(value(name)));
}

/** Replaces `{name}` in an entry's query or body with the fixture the route's `:name` would get. */
function fillText(text: string, value: (name: string) => string): string {
  return text.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => value(name));
}

describe("persona x route matrix (secure RBAC defaults)", () => {
  let c: ComputeCloud;
  let fx: Fixtures;
  before(async () => {
    c = await bootCompute();
    fx = await setup(c);
  });
  after(() => c?.close());

  it("has exactly one entry for every route, and no entry for a route that does not exist", () => {
    const keys = new Set(listRoutes(c.t.cloud.services).map((r) => r.key));
    const entries = MATRIX.map(([k]) => k);
    const missing = [...keys].filter((k) => !entries.includes(k));
    const stale = entries.filter((k) => !keys.has(k));
    const dup = entries.filter((k, i) => entries.indexOf(k) !== i);
    assert.deepEqual(
      missing,
      [],
      "routes without a matrix entry (add a line to test/policy/route-matrix.ts)",
    );
    assert.deepEqual(stale, [], "matrix entries that name no route");
    assert.deepEqual(dup, [], "duplicate matrix entries");
  });

  it("refuses exactly the personas the matrix refuses, on every route", async () => {
    const expected = new Map(
      MATRIX.map(([k, allowed, opts]) => [k, { allowed: parseAllowed(allowed), opts }]),
    );
    const routes = listRoutes(c.t.cloud.services).sort(
      (a, b) =>
        ORDER.indexOf(a.method) - ORDER.indexOf(b.method) ||
        (a.method === "DELETE" ? b.path.length - a.path.length : 0),
    );
    const wrong: string[] = [];
    const observed: string[] = [];
    for (const r of routes) {
      const want = expected.get(r.key);
      const value = (n: string) => fx.params(r, n);
      const url = fillPath(r, value) + (want?.opts?.query ? fillText(want.opts.query, value) : "");
      const allowedNow: Persona[] = [];
      const statuses: string[] = [];
      for (const p of ASK_ORDER) {
        const headers: Record<string, string> = { accept: "application/json" };
        const token = fx.tokens.get(p);
        if (token) headers["x-auth-token"] = token;
        if (r.service.name === "compute")
          headers["openstack-api-version"] = `compute ${want?.opts?.mv ?? "2.35"}`;
        if (r.service.name === "placement") headers["openstack-api-version"] = "placement 1.39";
        if (r.service.name === "volume")
          headers["openstack-api-version"] = `volume ${want?.opts?.mv ?? "3.44"}`;
        let payload: string | undefined;
        if (["POST", "PUT", "PATCH"].includes(r.method)) {
          const body = want?.opts?.body ?? {};
          payload = fillText(typeof body === "string" ? body : JSON.stringify(body), value);
          headers["content-type"] = want?.opts?.contentType ?? "application/json";
        }
        const res = await c.t.cloud.app.inject({
          method: r.method as "GET",
          url,
          headers,
          ...(payload !== undefined ? { payload } : {}),
        });
        const refused = res.statusCode === 403 || res.statusCode === 401;
        if (!refused) allowedNow.push(p);
        statuses.push(`${p}=${res.statusCode}`);
        if (want && want.allowed.has(p) === refused)
          wrong.push(`${r.key} as ${p}: ${res.statusCode} (expected ${refused ? "allowed" : "refused"})`);
      }
      const line = PERSONAS.filter((p) => allowedNow.includes(p)).join(" ");
      observed.push(`  [${JSON.stringify(r.key)}, ${JSON.stringify(line)}], // ${statuses.join(" ")}`);
    }
    if (process.env.STRATUS_RBAC_RECORD)
      writeFileSync(process.env.STRATUS_RBAC_RECORD, observed.join("\n") + "\n");
    assert.deepEqual(wrong, []);
  });
});

// The example plugin's server module (docs/plugins.md): a per-project "cost" resource on the Compute API.
//   GET /compute/v2.1/os-cost        the caller's project: each server's hourly cost and the totals (project readers)
//   GET /compute/v2.1/os-cost/rates  the rate card in force (project readers)
//   PUT /compute/v2.1/os-cost/rates  replace the rate card (cloud admins); kept in the plugin's own store
// Cost per hour of a server = vcpus × vcpu_hour + RAM GiB × ram_gb_hour + root disk GiB × disk_gb_hour.

/** Servers asked for per page of the server list. */
const PAGE = 500;

/** Hours in the "monthly" figure (365 × 24 / 12). */
const HOURS_PER_MONTH = 730;

/** The rate card's schema: three non-negative prices per hour. */
const RATES = {
  type: "object",
  properties: {
    vcpu_hour: { type: "number", minimum: 0, maximum: 1000000 },
    ram_gb_hour: { type: "number", minimum: 0, maximum: 1000000 },
    disk_gb_hour: { type: "number", minimum: 0, maximum: 1000000 },
  },
  required: ["vcpu_hour", "ram_gb_hour", "disk_gb_hour"],
  additionalProperties: false,
};

/** The plugin's settings (stratus.yaml plugins.settings.cost): currency and the default rate card. */
export const settings = {
  type: "object",
  properties: {
    currency: { type: "string", minLength: 1, maxLength: 8, default: "USD" },
    rates: { ...RATES, default: { vcpu_hour: 0.01, ram_gb_hour: 0.005, disk_gb_hour: 0.0001 } },
  },
  additionalProperties: false,
};

const READER = "rule:cloud_admin or rule:cloud_reader or rule:project_reader";

/** Round to hundredths of a cent. */
const round = (n) => Math.round(n * 10000) / 10000;

/** The hourly cost of one flavor (as embedded in a server at microversion 2.47+). */
const hourly = (flavor, r) =>
  round(flavor.vcpus * r.vcpu_hour + (flavor.ram / 1024) * r.ram_gb_hour + flavor.disk * r.disk_gb_hour);

/** The caller's project's servers with their flavors embedded (microversion 2.47), page by page. */
async function projectServers(req) {
  const out = [];
  for (let marker = ""; ;) {
    const q = `?limit=${PAGE}${marker ? `&marker=${encodeURIComponent(marker)}` : ""}`;
    const res = await req.call("compute", "GET", `/v2.1/servers/detail${q}`, {
      headers: { "openstack-api-version": "compute 2.47" },
    });
    if (res.status !== 200) throw req.error(502, `The server list failed: HTTP ${res.status}`);
    out.push(...res.body.servers);
    if (res.body.servers.length < PAGE) return out;
    marker = res.body.servers[res.body.servers.length - 1].id;
  }
}

/** The plugin's routes. */
export function routes(host) {
  const rates = async () => (await host.kv.get("rates")) ?? host.settings.rates;
  return [
    {
      method: "GET",
      path: "/v2.1/os-cost",
      policy: { name: "cost:show", check: READER, description: "Show the cost of the project's servers." },
      query: {
        type: "object",
        properties: { detail: { type: "boolean", default: true } },
        additionalProperties: false,
      },
      async handler(req) {
        if (!req.projectId) throw req.error(400, "A project-scoped token is required.");
        const r = await rates();
        const servers = (await projectServers(req)).map((s) => ({
          id: s.id,
          name: s.name,
          flavor: s.flavor.original_name,
          hourly: hourly(s.flavor, r),
        }));
        const total = round(servers.reduce((sum, s) => sum + s.hourly, 0));
        return {
          cost: {
            project_id: req.projectId,
            currency: host.settings.currency,
            hourly: total,
            monthly: round(total * HOURS_PER_MONTH),
            rates: r,
            ...(req.query.detail ? { servers } : {}),
          },
        };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-cost/rates",
      policy: { name: "cost:rates:show", check: READER, description: "Show the rate card." },
      async handler() {
        return { rates: await rates(), currency: host.settings.currency };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-cost/rates",
      policy: { name: "cost:rates:update", check: "rule:cloud_admin", description: "Replace the rate card." },
      body: {
        type: "object",
        properties: { rates: RATES },
        required: ["rates"],
        additionalProperties: false,
      },
      async handler(req) {
        await host.kv.put("rates", req.body.rates);
        host.log.info("rate card replaced");
        return { rates: req.body.rates, currency: host.settings.currency };
      },
    },
  ];
}

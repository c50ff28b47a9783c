import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";

/** The validated configuration schema; one source for the validator and the Config type. */
export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Base URL put in the service catalog; defaults to http://host:port. */
    publicUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
    db: Type.Optional(Type.String()),
    bus: Type.String(),
    logLevel: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    ),
    /** Write logs to this file instead of stdout ("" = stdout). */
    logFile: Type.String(),
    region: Type.String({ minLength: 1 }),
    identity: Type.Object(
      {
        tokenExpiration: Type.Integer({ minimum: 60 }),
        maxActiveKeys: Type.Integer({ minimum: 2 }),
        /** scrypt cost: log2(N). 17 costs about the CPU time of bcrypt cost 12. */
        passwordHashCost: Type.Integer({ minimum: 10, maximum: 20 }),
        adminPassword: Type.Optional(Type.String({ minLength: 1 })),
        demoPassword: Type.Optional(Type.String({ minLength: 1 })),
        listLimit: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    policy: Type.Object({ enforceScope: Type.Boolean() }, { additionalProperties: false }),
    /** Extra per-service listeners for split deployments: service name → port (served at the root, e.g. identity on 5000). */
    listeners: Type.Record(
      Type.String({ pattern: "^[a-z-]+$" }),
      Type.Integer({ minimum: 0, maximum: 65535 }),
    ),
  },
  { additionalProperties: false },
);

/** Stratus configuration after merging defaults, the config file, the environment and flags. */
export type Config = Static<typeof ConfigSchema>;

/** Default data directory: $STRATUS_DATA_DIR or ~/.stratus. */
export const defaultDataDir = (): string => process.env.STRATUS_DATA_DIR || join(homedir(), ".stratus");

function defaults(dataDir: string): Config {
  return {
    dataDir,
    host: "127.0.0.1",
    port: 8080,
    bus: "memory",
    logLevel: "info",
    logFile: "",
    region: "RegionOne",
    identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 17 },
    policy: { enforceScope: false },
    listeners: {},
  };
}

const ENV: Array<[string, (c: Record<string, any>, v: string) => void]> = [
  ["STRATUS_HOST", (c, v) => (c.host = v)],
  ["STRATUS_PORT", (c, v) => (c.port = Number(v))],
  ["STRATUS_PUBLIC_URL", (c, v) => (c.publicUrl = v)],
  ["STRATUS_DB", (c, v) => (c.db = v)],
  ["STRATUS_BUS", (c, v) => (c.bus = v)],
  ["STRATUS_LOG_LEVEL", (c, v) => (c.logLevel = v)],
  ["STRATUS_LOG_FILE", (c, v) => (c.logFile = v)],
  ["STRATUS_ADMIN_PASSWORD", (c, v) => (c.identity.adminPassword = v)],
  ["STRATUS_PASSWORD_HASH_COST", (c, v) => (c.identity.passwordHashCost = Number(v))],
];

function deepMerge(base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && base[k] && typeof base[k] === "object")
      deepMerge(base[k], v);
    else base[k] = v;
  }
  return base;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(ConfigSchema);

/** Build and validate the configuration; throws an Error that says which setting is wrong and where it came from. */
export function loadConfig(
  flags: Partial<Config> & { config?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const dataDir = resolve(flags.dataDir ?? env.STRATUS_DATA_DIR ?? defaultDataDir());
  const cfg = defaults(dataDir) as Record<string, any>;
  const file = flags.config ?? env.STRATUS_CONFIG ?? join(dataDir, "stratus.yaml");
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`Config file ${file} is not valid YAML: ${(e as Error).message}`);
    }
    if (parsed && typeof parsed === "object") deepMerge(cfg, parsed as Record<string, any>);
  } else if (flags.config) throw new Error(`Config file ${file} does not exist`);
  for (const [name, set] of ENV)
    if (env[name] !== undefined && env[name] !== "") set(cfg, env[name] as string);
  const { config: _c, ...rest } = flags;
  deepMerge(cfg, rest as Record<string, any>);
  cfg.dataDir = dataDir;
  if (!validate(cfg)) {
    const msgs = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath.slice(1).replace(/\//g, ".") || "(root)"} ${e.message}${e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : ""}`,
    );
    throw new Error(
      `Invalid configuration (defaults < ${file} < STRATUS_* environment < flags): ${msgs.join("; ")}`,
    );
  }
  return cfg as Config;
}

/** The base URL services advertise in the catalog. */
export function publicBaseUrl(cfg: Config, boundPort?: number): string {
  if (cfg.publicUrl) return cfg.publicUrl.replace(/\/$/, "");
  const host = cfg.host === "0.0.0.0" || cfg.host === "::" ? "127.0.0.1" : cfg.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${boundPort ?? cfg.port}`;
}

/** Database URL: configured, or SQLite in the data dir. */
export const databaseUrl = (cfg: Config): string => cfg.db ?? `sqlite://${join(cfg.dataDir, "stratus.db")}`;

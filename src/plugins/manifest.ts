// plugin.json: its schema, and reading it with errors that name the plugin folder and the bad field.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { Ajv, type ErrorObject } from "ajv";
import { EXTENSIBLE_SERVICES, type ExtensibleService, type PluginManifest } from "./types.js";

/** A plugin or panel name: lower-case letters, digits and dashes. */
export const NAME_RE = "^[a-z][a-z0-9-]{0,31}$";

/** A panel module: one file name under the plugin's dashboard/ folder. */
export const PANEL_FILE_RE = "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}\\.m?js$";

/** A file of the plugin: a relative path of safe segments ending in .js or .mjs (no "..", no absolute path). */
export const MODULE_RE =
  "^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}/){0,3}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}\\.m?js$";

const ManifestSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_RE }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    service: Type.Unsafe<ExtensibleService>({ type: "string", enum: [...EXTENSIBLE_SERVICES] }),
    server: Type.Optional(Type.String({ pattern: MODULE_RE })),
    panels: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.String({ pattern: NAME_RE }),
            title: Type.String({ minLength: 1, maxLength: 64 }),
            module: Type.String({ pattern: PANEL_FILE_RE }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The first schema error as "field.path message" ("(root)" for the document itself). */
export function firstError(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "(root)";
  const extra =
    e?.keyword === "additionalProperties"
      ? ` (${String(e.params.additionalProperty)})`
      : e?.keyword === "enum"
        ? `: ${(e.params.allowedValues as unknown[]).join(", ")}`
        : "";
  return `${where} ${e?.message ?? "is invalid"}${extra}`;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile(ManifestSchema);

/** The plugin folder's plugin.json, validated; throws an Error saying what is wrong. */
export function readManifest(dir: string): PluginManifest {
  const file = join(dir, "plugin.json");
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (e as Error).message}`,
    );
  }
  if (!validate(doc)) {
    // The error names the plugin when its name at least is well-formed.
    const name = (doc as { name?: unknown } | null)?.name;
    const plugin = typeof name === "string" && new RegExp(NAME_RE).test(name) ? name : undefined;
    throw Object.assign(new Error(`plugin.json: ${firstError(validate.errors)}`), { plugin });
  }
  const m = doc as PluginManifest;
  const ids = new Set<string>();
  for (const p of m.panels ?? []) {
    if (ids.has(p.id)) throw new Error(`plugin.json: panel id "${p.id}" is used twice`);
    ids.add(p.id);
  }
  return m;
}

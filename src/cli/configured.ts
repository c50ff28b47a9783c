// Whether a setting was chosen by the operator (environment or config file) rather than left to its default, for
// the commands that pick a default of their own (`stratus up`, `stratus agent`).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Config } from "../shared/config.js";

/** The config file's `section.key`, when the file exists and sets it to a string. */
function fileSets(cfg: Config, configFlag: string | undefined, section: string, key: string): boolean {
  const file = configFlag ?? process.env.STRATUS_CONFIG ?? join(cfg.dataDir, "stratus.yaml");
  if (!existsSync(file)) return false;
  const doc = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown> | null;
  const sec = doc && Object.hasOwn(doc, section) ? doc[section] : undefined;
  return !!sec && typeof sec === "object" && typeof (sec as Record<string, unknown>)[key] === "string";
}

/** Whether the environment or the config file chose the compute driver. */
export const computeDriverConfigured = (cfg: Config, configFlag: string | undefined): boolean =>
  !!process.env.STRATUS_COMPUTE_DRIVER || fileSets(cfg, configFlag, "compute", "driver");

/** Whether the environment or the config file chose the network driver. */
export const networkDriverConfigured = (cfg: Config, configFlag: string | undefined): boolean =>
  !!process.env.STRATUS_NETWORK_DRIVER || fileSets(cfg, configFlag, "network", "driver");

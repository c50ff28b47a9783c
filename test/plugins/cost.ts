// The example cost plugin as the tests load it: its folder and settings with round figures.
import { join } from "node:path";
import { ROOT } from "../helpers/stratus-process.js";

/** The example plugin shipped in the repository. */
export const COST_PLUGIN = join(ROOT, "plugins", "cost");

/** Rates that give round figures: m1.tiny (1 vCPU, 512 MiB, 1 GB) costs 1.25 an hour, m1.small 7.5. */
export const COST_SETTINGS = {
  currency: "EUR",
  rates: { vcpu_hour: 0.5, ram_gb_hour: 1, disk_gb_hour: 0.25 },
};

/** bootCompute's options that load the cost plugin. */
export const WITH_COST = { config: { plugins: { paths: [COST_PLUGIN], settings: { cost: COST_SETTINGS } } } };

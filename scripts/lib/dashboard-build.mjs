// `node scripts/lib/dashboard-build.mjs [--force]`: build the web dashboard into dist/dashboard when stale.
import { ensureDashboardBuilt } from "./dashboard.mjs";
import { main } from "./setup.mjs";

main(async () => {
  await ensureDashboardBuilt({ always: process.argv.includes("--force") });
  return 0;
});

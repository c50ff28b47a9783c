// `stratus wipe-volumes`: stop the volume daemons (tgtd's targets, qemu-storage-daemon's exports) that a cloud or
// volume agent on a data directory left running after a crash, and remove their run directory. The volumes' files
// stay; the next agent on the data directory exports what is attached again.
import { Command } from "commander";
import { loadConfig } from "../shared/config.js";
import { wipeVolumes } from "../volume/drivers/configured.js";

/** `stratus wipe-volumes [--data-dir DIR] [--config FILE]`. */
export function wipeVolumesCommand(): Command {
  return new Command("wipe-volumes")
    .description(
      "Stop the iSCSI (tgtd) and NBD (qemu-storage-daemon) daemons a stopped or crashed cloud left for its data directory",
    )
    .option("--data-dir <dir>", "the cloud's data directory (default $STRATUS_DATA_DIR or ~/.stratus)")
    .option("--config <file>", "its config file (default DATA_DIR/stratus.yaml: volume.iscsiPort)")
    .action(async (o: { dataDir?: string; config?: string }) => {
      let cfg;
      try {
        cfg = loadConfig({ dataDir: o.dataDir, config: o.config }, process.env);
      } catch (e) {
        console.error(`stratus: ${(e as Error).message}`);
        process.exit(2);
      }
      const done = await wipeVolumes(cfg);
      console.log(done.length ? done.map((d) => `stopped the ${d}`).join("\n") : "nothing to stop");
    });
}

// Runs Vite's production build of the dashboard (a child of `npm start`/`npm test`, after node_modules exists).
import { join } from "node:path";
import react from "@vitejs/plugin-react";
import { build } from "vite";
import { ROOT } from "./setup.mjs";

const root = join(ROOT, "src", "dashboard", "web");
await build({
  root,
  base: "/",
  logLevel: "warn",
  configFile: false,
  plugins: [react()],
  build: {
    outDir: join(ROOT, "dist", "dashboard"),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
});

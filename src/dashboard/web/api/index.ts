// The dashboard's typed API client: Keystone sessions, the catalog-driven HTTP client, and resource calls.
export * from "./errors.js";
export * from "./session.js";
export * from "./client.js";
export * from "./resources.js";
export * from "./clients-config.js";
export * from "./volumes.js";
export * from "./objects.js";
export * from "./routers.js";
export * from "./server-actions.js";
export * from "./backups.js";
export * from "./topology.js";
export * from "./images.js";
export * from "./ports.js";
export * from "./tempurl.js";

// The metadata path of the linux data plane (Neutron's metadata agent and ns-metadata-proxy): guests call
// 169.254.169.254:80 inside their network's DHCP namespace, where a proxy process (ns-proxy.ts) adds the caller's
// address and network and forwards over a unix socket to the host-side agent (agent.ts), which finds the instance
// by network and fixed IP (lookup.ts) and asks compute's metadata service with that instance's signed id.
// proxies.ts runs the proxy processes for the driver. Wiring, for a linux driver with state directory DIR:
//   const proxies = createMetadataProxies({ stateDir: DIR, socketPath: metadataSocketPath(DIR), log,
//     agent: { lookup: portCallerLookup(core), target: () => cloud.metadata /* or { url, secret } */ } });
//   after ensureDhcp (metadata on): await proxies.ensure(networkId, <its qdhcp namespace>);
//   on network removal: await proxies.remove(networkId); at driver close: await proxies.close().
export {
  startMetadataAgent,
  type MetadataAgent,
  type MetadataAgentOptions,
  type MetadataTargetSource,
  type MetadataServiceRef,
} from "./agent.js";
export { portCallerLookup, type CallerLookup, type MetadataCaller } from "./lookup.js";
export {
  createMetadataProxies,
  metadataSocketPath,
  nobodyUser,
  NS_PROXY_SCRIPT,
  type MetadataProxies,
  type MetadataProxiesOptions,
  type ProxyUser,
} from "./proxies.js";
export { NS_PROXY_LIMITS, type NsProxyLimits } from "./ns-proxy-server.js";

// Network topology: the project's networks as horizontal lanes and its routers and instances as boxes above them,
// a line from each box down to every network it has a port on (plain SVG), and the same graph as a list for
// keyboard and screen reader users (the drawing itself is an image with a text summary).
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { loadTopology, type Topology as Graph, type TopoNode } from "../../api/topology.js";
import { PageSection } from "../pf.js";
import { Link } from "../router.js";
import { useApi } from "../session.js";
import { ErrorAlert, Loading, PageTitle } from "../ui.js";

const BOX_W = 120;
const BOX_H = 44;
const GAP = 24;
/** The lanes' labels sit left of the first box, where no line crosses. */
const LABEL_W = 210;
const TOP = 16;
const LANE_TOP = TOP + BOX_H + 40;
const LANE_H = 28;
const LANE_GAP = 36;

/** Where each box and lane goes. */
export function layout(g: Graph) {
  const width = Math.max(480, LABEL_W + GAP + g.nodes.length * (BOX_W + GAP));
  const lane = new Map(g.networks.map((n, i) => [n.id, LANE_TOP + i * (LANE_H + LANE_GAP)]));
  const height = LANE_TOP + g.networks.length * (LANE_H + LANE_GAP);
  const x = (i: number) => LABEL_W + GAP + i * (BOX_W + GAP);
  return { width, height, lane, x };
}

/** "1 router", "2 routers". */
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** A node's colour by kind (dark enough for white text in both themes). */
const fill = (n: TopoNode) => (n.kind === "router" ? "#5e40be" : "#0066cc");

/** A label cut to `n` characters. */
const cut = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

/** The SVG drawing. */
function Drawing({ g }: { g: Graph }) {
  const { width, height, lane, x } = useMemo(() => layout(g), [g]);
  const routers = g.nodes.filter((n) => n.kind === "router").length;
  const summary = `${count(g.networks.length, "network")}, ${count(routers, "router")} and ${count(
    g.nodes.length - routers,
    "instance",
  )}; the list below gives every link.`;
  return (
    <div style={{ overflowX: "auto", maxWidth: "100%" }}>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby="topology-title topology-desc"
        data-testid="topology-graph"
        style={{ fontFamily: "inherit", fontSize: 12 }}
      >
        <title id="topology-title">Network topology</title>
        <desc id="topology-desc">{summary}</desc>
        {/* Lines first: a lane drawn over a line it does not join hides it (the line passes behind). */}
        {g.nodes.map((n, i) => (
          <g key={n.id} data-links={n.name}>
            {n.links.map((l) => (
              <line
                key={l.network}
                x1={x(i) + BOX_W / 2}
                y1={TOP + BOX_H}
                x2={x(i) + BOX_W / 2}
                y2={(lane.get(l.network) ?? 0) + LANE_H / 2}
                stroke="#777"
                strokeWidth={2}
                strokeDasharray={l.gateway ? "5 3" : undefined}
              />
            ))}
          </g>
        ))}
        {g.networks.map((n) => (
          <g key={n.id} data-network={n.name}>
            <rect
              x={4}
              y={lane.get(n.id)}
              width={width - 8}
              height={LANE_H}
              rx={6}
              fill={n.external ? "#3c3f42" : "#3f5f33"}
            />
            <text x={12} y={(lane.get(n.id) ?? 0) + 18} fill="#fff">
              {cut(`${n.name}${n.cidrs.length ? ` ${n.cidrs.join(", ")}` : ""}`, 30)}
            </text>
          </g>
        ))}
        {g.nodes.map((n, i) => (
          <g key={n.id} data-node={n.name}>
            {n.links.map((l) => (
              <circle
                key={l.network}
                cx={x(i) + BOX_W / 2}
                cy={(lane.get(l.network) ?? 0) + LANE_H / 2}
                r={5}
                fill="#fff"
                stroke="#333"
              />
            ))}
            <rect x={x(i)} y={TOP} width={BOX_W} height={BOX_H} rx={6} fill={fill(n)} />
            <text x={x(i) + 8} y={TOP + 18} fill="#fff" fontWeight="bold">
              {cut(n.name, 16)}
            </text>
            <text x={x(i) + 8} y={TOP + 35} fill="#fff">
              {n.kind} {n.status}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

/** Bulleted, indented lists (the design system resets them). */
const LIST = { listStyle: "disc", paddingLeft: "1.5rem" } as const;

/** The graph as nested lists: each network and what is on it. */
function Listing({ g }: { g: Graph }) {
  return (
    <ul data-testid="topology-list" style={LIST}>
      {g.networks.map((n) => {
        const on = g.nodes.flatMap((node) =>
          node.links.filter((l) => l.network === n.id).map((l) => ({ node, l })),
        );
        return (
          <li key={n.id}>
            <strong>
              Network {n.name}
              {n.external ? " (external)" : ""}
            </strong>
            {n.cidrs.length ? `: ${n.cidrs.join(", ")}` : ""}
            {on.length === 0 ? (
              <span> - nothing attached</span>
            ) : (
              <ul style={LIST}>
                {on.map(({ node, l }) => (
                  <li key={node.id} data-link={`${node.name}@${n.name}`}>
                    {node.kind === "instance" ? (
                      <Link to={`/project/instances/${encodeURIComponent(node.id)}`}>{node.name}</Link>
                    ) : (
                      <Link to="/project/routers">{node.name}</Link>
                    )}{" "}
                    ({node.kind}
                    {l.gateway ? ", gateway" : ""}){l.ips.length ? `: ${l.ips.join(", ")}` : ""}
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** The Network Topology page. */
export default function Topology() {
  const { api, session } = useApi();
  const g = useQuery({
    queryKey: ["topology", session.project.id],
    queryFn: () => loadTopology(api),
    refetchInterval: 10_000,
  });
  return (
    <>
      <PageTitle title="Network Topology" />
      <PageSection>
        <ErrorAlert error={g.error} title="Could not load the topology" />
        {g.isLoading ? (
          <Loading what="topology" />
        ) : g.data ? (
          <>
            <Drawing g={g.data} />
            <h2 style={{ fontSize: "1.1rem", margin: "1rem 0 .5rem" }}>Connections</h2>
            <Listing g={g.data} />
          </>
        ) : null}
      </PageSection>
    </>
  );
}

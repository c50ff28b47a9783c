// Project overview: how much of each quota the project uses (compute limits, network and block storage quotas).
import { useQuery } from "@tanstack/react-query";
import { Card, CardBody, CardTitle, Gallery, PageSection, Progress, ProgressMeasureLocation } from "../pf.js";
import { useVolumeCalls } from "../service-calls.js";
import { useApi } from "../session.js";
import { ErrorAlert, Loading, PageTitle } from "../ui.js";

/** One quota gauge: used of limit (a negative limit is unlimited). */
function Gauge({
  title,
  used,
  limit,
  unit = "",
}: {
  title: string;
  used: number;
  limit: number;
  unit?: string;
}) {
  const unlimited = limit < 0;
  const pct =
    unlimited || limit === 0 ? (used > 0 && limit === 0 ? 100 : 0) : Math.min(100, (used / limit) * 100);
  const label = `${used}${unit} of ${unlimited ? "unlimited" : `${limit}${unit}`}`;
  return (
    <Card isCompact>
      <CardTitle component="h2">{title}</CardTitle>
      <CardBody>
        <div aria-hidden="true" style={{ marginBottom: ".5rem" }}>
          {label}
        </div>
        <Progress
          value={pct}
          aria-label={`${title}: ${label}`}
          measureLocation={ProgressMeasureLocation.none}
          variant={pct >= 100 ? "danger" : pct >= 80 ? "warning" : undefined}
        />
      </CardBody>
    </Card>
  );
}

const NETWORK_ROWS: Array<[string, string]> = [
  ["network", "Networks"],
  ["subnet", "Subnets"],
  ["port", "Ports"],
  ["router", "Routers"],
  ["floatingip", "Floating IPs"],
  ["security_group", "Security Groups"],
  ["security_group_rule", "Security Group Rules"],
];

const VOLUME_ROWS: Array<[string, string, string]> = [
  ["volumes", "Volumes", ""],
  ["gigabytes", "Volume Storage", " GiB"],
  ["snapshots", "Volume Snapshots", ""],
];

/** The Overview page. */
export default function Overview() {
  const { r, session, api } = useApi();
  const limits = useQuery({ queryKey: ["limits", session.project.id], queryFn: r.limits });
  const netq = useQuery({
    queryKey: ["netquota", session.project.id],
    queryFn: () => r.networkQuota(session.project.id),
    enabled: api.has("network"),
  });
  const { v } = useVolumeCalls();
  const volq = useQuery({
    queryKey: ["volquota", session.project.id],
    queryFn: () => v.quota(session.project.id),
    enabled: api.has("block-storage"),
  });
  const l = limits.data;
  return (
    <>
      <PageTitle title="Overview" />
      <PageSection>
        <h2 style={{ fontSize: "1.1rem", marginBottom: ".5rem" }}>Compute</h2>
        <ErrorAlert error={limits.error} title="Could not load compute limits" />
        {limits.isLoading ? (
          <Loading what="compute limits" />
        ) : l ? (
          <Gallery hasGutter minWidths={{ default: "14rem" }}>
            <Gauge title="Instances" used={l.totalInstancesUsed ?? 0} limit={l.maxTotalInstances ?? -1} />
            <Gauge title="VCPUs" used={l.totalCoresUsed ?? 0} limit={l.maxTotalCores ?? -1} />
            <Gauge title="RAM" used={l.totalRAMUsed ?? 0} limit={l.maxTotalRAMSize ?? -1} unit=" MiB" />
            <Gauge
              title="Server Groups"
              used={l.totalServerGroupsUsed ?? 0}
              limit={l.maxServerGroups ?? -1}
            />
          </Gallery>
        ) : null}
      </PageSection>
      <PageSection>
        <h2 style={{ fontSize: "1.1rem", marginBottom: ".5rem" }}>Network</h2>
        <ErrorAlert error={netq.error} title="Could not load network quotas" />
        {netq.isLoading ? (
          <Loading what="network quotas" />
        ) : netq.data ? (
          <Gallery hasGutter minWidths={{ default: "14rem" }}>
            {NETWORK_ROWS.filter(([k]) => Object.hasOwn(netq.data, k)).map(([k, title]) => (
              <Gauge key={k} title={title} used={netq.data[k]!.used} limit={netq.data[k]!.limit} />
            ))}
          </Gallery>
        ) : null}
      </PageSection>
      {api.has("block-storage") && (
        <PageSection>
          <h2 style={{ fontSize: "1.1rem", marginBottom: ".5rem" }}>Block Storage</h2>
          <ErrorAlert error={volq.error} title="Could not load block storage quotas" />
          {volq.isLoading ? (
            <Loading what="block storage quotas" />
          ) : volq.data ? (
            <Gallery hasGutter minWidths={{ default: "14rem" }}>
              {VOLUME_ROWS.filter(([k]) => Object.hasOwn(volq.data, k)).map(([k, title, unit]) => (
                <Gauge
                  key={k}
                  title={title}
                  used={volq.data[k]!.in_use}
                  limit={volq.data[k]!.limit}
                  unit={unit}
                />
              ))}
            </Gallery>
          ) : null}
        </PageSection>
      )}
    </>
  );
}

// One instance: its details, refreshed while shown, and its console log.
import { useQuery } from "@tanstack/react-query";
import {
  Button,
  CodeBlock,
  CodeBlockCode,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  PageSection,
} from "../pf.js";
import { Link } from "../router.js";
import { useApi } from "../session.js";
import { changing, StatusLabel } from "../status.js";
import { ErrorAlert, Loading, PageTitle } from "../ui.js";
import { addresses } from "./Instances.js";

/** The instance detail page; params[0] is the server id. */
export default function InstanceDetail({ params }: { params: string[] }) {
  const id = params[0]!;
  const { r } = useApi();
  const server = useQuery({
    queryKey: ["server", id],
    queryFn: () => r.server(id),
    refetchInterval: (q) =>
      q.state.data && changing(q.state.data.status, q.state.data["OS-EXT-STS:task_state"]) ? 1000 : 5000,
  });
  const log = useQuery({
    queryKey: ["console", id],
    queryFn: () => r.consoleLog(id, 200),
    enabled: server.data?.status === "ACTIVE",
  });
  const s = server.data;
  return (
    <>
      <PageTitle title={s ? `Instance ${s.name}` : "Instance"}>
        <Link to="/project/instances">Back to Instances</Link>
      </PageTitle>
      <PageSection>
        <ErrorAlert error={server.error} title="Could not load the instance" />
        {server.isLoading ? (
          <Loading what="instance" />
        ) : s ? (
          <DescriptionList isHorizontal isCompact>
            {(
              [
                ["ID", s.id],
                ["Status", <StatusLabel key="s" status={s.status} task={s["OS-EXT-STS:task_state"]} />],
                ["IP addresses", addresses(s).join(", ") || "-"],
                ["Flavor", s.flavor?.original_name ?? "-"],
                ["Key pair", s.key_name ?? "-"],
                ["Security groups", (s.security_groups ?? []).map((g) => g.name).join(", ") || "-"],
                ["Created", s.created],
                ...(s.fault ? [["Fault", s.fault.message] as const] : []),
              ] as Array<readonly [string, React.ReactNode]>
            ).map(([t, d]) => (
              <DescriptionListGroup key={t}>
                <DescriptionListTerm>{t}</DescriptionListTerm>
                <DescriptionListDescription>{d}</DescriptionListDescription>
              </DescriptionListGroup>
            ))}
          </DescriptionList>
        ) : null}
      </PageSection>
      <PageSection>
        <div style={{ display: "flex", gap: "1rem", alignItems: "center" }}>
          <h2 style={{ fontSize: "1.1rem" }}>Console log</h2>
          <Button
            variant="secondary"
            size="sm"
            onClick={() => void log.refetch()}
            isDisabled={!log.isEnabled}
          >
            Refresh
          </Button>
        </div>
        <ErrorAlert error={log.error} title="Could not read the console log" />
        {s?.status !== "ACTIVE" ? (
          <p>The console log is available while the instance is active.</p>
        ) : log.isLoading ? (
          <Loading what="console log" />
        ) : (
          <CodeBlock>
            <CodeBlockCode id="console-log" data-testid="console-log">
              {log.data || "(the console log is empty)"}
            </CodeBlockCode>
          </CodeBlock>
        )}
      </PageSection>
    </>
  );
}

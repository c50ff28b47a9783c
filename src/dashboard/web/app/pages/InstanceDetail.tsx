// One instance: its details, refreshed while shown, its actions, attachments, action log, console log and VNC
// console.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
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
import { InstanceActionLog } from "./InstanceActionLog.js";
import { InstanceAttachments } from "./InstanceAttachments.js";
import { addresses } from "./Instances.js";
import { ServerActionsMenu } from "./ServerActionsMenu.js";
import { VncConsole } from "./VncConsole.js";

/** A titled section of the page. */
function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <PageSection>
      <h2 style={{ fontSize: "1.1rem", marginBottom: ".5rem" }}>{title}</h2>
      {children}
    </PageSection>
  );
}

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
  const [menuError, setMenuError] = useState<unknown>(null);
  return (
    <>
      <PageTitle title={s ? `Instance ${s.name}` : "Instance"}>
        {s && <ServerActionsMenu server={s} onError={setMenuError} />}
        <Link to="/project/instances">Back to Instances</Link>
      </PageTitle>
      <PageSection>
        <ErrorAlert error={server.error} title="Could not load the instance" />
        <ErrorAlert error={menuError} title="The action failed" />
        {server.isLoading ? (
          <Loading what="instance" />
        ) : s ? (
          <DescriptionList isHorizontal isCompact>
            {(
              [
                ["ID", s.id],
                ["Status", <StatusLabel key="s" status={s.status} task={s["OS-EXT-STS:task_state"]} />],
                ["Locked", s.locked ? "Yes" : "No"],
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
      {s && (
        <Section title="Attachments">
          <InstanceAttachments id={id} name={s.name} />
        </Section>
      )}
      <Section title="Console">
        <VncConsole id={id} available={s?.status === "ACTIVE" || s?.status === "RESCUE"} />
      </Section>
      <Section title="Action log">
        <InstanceActionLog id={id} />
      </Section>
    </>
  );
}

// Admin overview: the cloud's capacity in use (summed over the hypervisors) and each project's usage over a period
// (os-simple-tenant-usage), the period chosen with two validated dates.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { TenantUsage } from "../../../api/admin-compute.js";
import { Button, Card, CardBody, CardTitle, Form, Gallery, PageSection, TextInput } from "../../pf.js";
import { Field } from "../../dialog.js";
import { ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, UsageBar, useAdminCalls, useProjects } from "./common.js";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The period: two dates, the first not after the last (Nova refuses a start in the future with its own message). */
function periodErrors(from: string, to: string): { from?: string; to?: string } {
  const f = DAY.test(from) ? Date.parse(`${from}T00:00:00Z`) : NaN;
  const t = DAY.test(to) ? Date.parse(`${to}T00:00:00Z`) : NaN;
  return {
    from: Number.isNaN(f)
      ? "Enter a date (YYYY-MM-DD)."
      : f > t
        ? "The period must not end before it starts."
        : undefined,
    to: Number.isNaN(t) ? "Enter a date (YYYY-MM-DD)." : undefined,
  };
}

/** A date field of the usage period. */
function DateField(p: {
  label: string;
  id: string;
  value: string;
  set(v: string): void;
  error?: string;
  shown: boolean;
}) {
  return (
    <Field label={p.label} id={p.id} error={p.error} shown={p.shown}>
      <TextInput
        id={p.id}
        type="date"
        value={p.value}
        onChange={(_e, v) => p.set(v)}
        validated={p.shown && p.error ? "error" : "default"}
      />
    </Field>
  );
}

/** The capacity cards: vCPUs, RAM, disk and instances over every hypervisor. */
function Capacity() {
  const { ac } = useAdminCalls();
  const hv = useQuery({
    queryKey: ["admin", "hypervisors"],
    queryFn: ac.hypervisors,
    refetchInterval: 10_000,
  });
  const sum = (
    k: "vcpus" | "vcpus_used" | "memory_mb" | "memory_mb_used" | "local_gb" | "local_gb_used" | "running_vms",
  ) => (hv.data ?? []).reduce((a, h) => a + (h[k] ?? 0), 0);
  if (hv.error) return <ErrorAlert error={hv.error} title="Could not load the hypervisors" />;
  const cards: Array<[string, number, number, string]> = [
    ["vCPUs", sum("vcpus_used"), sum("vcpus"), ""],
    ["RAM", Math.round(sum("memory_mb_used") / 1024), Math.round(sum("memory_mb") / 1024), " GiB"],
    ["Local disk", sum("local_gb_used"), sum("local_gb"), " GiB"],
  ];
  return (
    <Gallery hasGutter minWidths={{ default: "14rem" }}>
      {cards.map(([title, used, total, unit]) => (
        <Card isCompact key={title}>
          <CardTitle component="h2">{title}</CardTitle>
          <CardBody>
            <UsageBar label={title} used={used} total={total} unit={unit} />
          </CardBody>
        </Card>
      ))}
      <Card isCompact>
        <CardTitle component="h2">Hypervisors</CardTitle>
        <CardBody>
          {hv.data ? `${hv.data.length} hypervisors, ${sum("running_vms")} instances` : "Loading..."}
        </CardBody>
      </Card>
    </Gallery>
  );
}

/** The Admin Overview page's content. */
function AdminOverviewContent() {
  const { ac } = useAdminCalls();
  const projects = useProjects();
  const now = new Date();
  const [from, setFrom] = useState(day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))));
  const [to, setTo] = useState(day(now));
  const [period, setPeriod] = useState({ from, to });
  const [shown, setShown] = useState(false);
  const errors = periodErrors(from, to);
  const usage = useQuery({
    queryKey: ["admin", "usage", period.from, period.to],
    // The whole last day (Nova counts a period that ends in the future up to now).
    queryFn: () =>
      ac.usage(
        new Date(`${period.from}T00:00:00Z`),
        new Date(Date.parse(`${period.to}T00:00:00Z`) + 86_400_000),
      ),
  });
  const hours = (n: number) => n.toFixed(2);
  return (
    <>
      <PageTitle title="Admin Overview" />
      <PageSection>
        <Capacity />
      </PageSection>
      <PageSection>
        <Form
          isHorizontal={false}
          noValidate
          aria-label="Usage period"
          onSubmit={(e) => {
            e.preventDefault();
            setShown(true);
            if (!errors.from && !errors.to) setPeriod({ from, to });
          }}
          style={{ display: "flex", gap: "1rem", alignItems: "flex-end", flexWrap: "wrap" }}
        >
          <DateField
            label="From"
            id="usage-from"
            value={from}
            set={setFrom}
            error={errors.from}
            shown={shown}
          />
          <DateField label="To" id="usage-to" value={to} set={setTo} error={errors.to} shown={shown} />
          <Button type="submit" variant="secondary">
            Show usage
          </Button>
        </Form>
      </PageSection>
      <ResourceTable<TenantUsage>
        label="project usage"
        rows={usage.data}
        loading={usage.isLoading}
        error={usage.error}
        rowKey={(u) => u.tenant_id}
        filterText={(u) => `${projects.name(u.tenant_id)} ${u.tenant_id}`}
        empty="No instance ran in this period."
        columns={[
          { title: "Project", cell: (u) => projects.name(u.tenant_id) },
          { title: "vCPU hours", cell: (u) => hours(u.total_vcpus_usage) },
          { title: "RAM GiB hours", cell: (u) => hours(u.total_memory_mb_usage / 1024) },
          { title: "Disk GiB hours", cell: (u) => hours(u.total_local_gb_usage) },
          { title: "Instance hours", cell: (u) => hours(u.total_hours) },
        ]}
      />
    </>
  );
}

/** The Admin Overview page. */
export default adminPage(AdminOverviewContent);

// Quotas per project: choose a project, see its compute, network and volume limits, and edit each service's limits
// (whole numbers, -1 for unlimited, checked before sending; only changed limits are sent).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { QUOTA_FIELDS, type QuotaService, type QuotaSet } from "../../../api/admin-resources.js";
import { Field, FormDialog } from "../../dialog.js";
import {
  Button,
  Card,
  CardBody,
  CardHeader,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Gallery,
  PageSection,
  TextInput,
} from "../../pf.js";
import { useApi } from "../../session.js";
import { ErrorAlert, Loading, PageTitle } from "../../ui.js";
import { adminPage, intError, useAdminCalls, useProjects } from "./common.js";

const TITLES: Record<QuotaService, string> = { compute: "Compute", network: "Network", volume: "Volume" };
const limitText = (n: number | undefined) => (n === undefined ? "-" : n < 0 ? "Unlimited" : String(n));

/** The edit dialog of one service's limits. */
function EditQuota(props: {
  svc: QuotaService;
  project: string;
  name: string;
  current: QuotaSet;
  onClose(): void;
}) {
  const { ar } = useAdminCalls();
  const qc = useQueryClient();
  const fields = QUOTA_FIELDS[props.svc].filter(([k]) => props.current.has(k));
  const [values, setValues] = useState(() => new Map(fields.map(([k]) => [k, String(props.current.get(k))])));
  const [shown, setShown] = useState(false);
  const errors = new Map(fields.map(([k]) => [k, intError(values.get(k) ?? "", -1)]));
  const changed: QuotaSet = new Map();
  for (const [k] of fields) {
    const n = Number((values.get(k) ?? "").trim());
    if (!errors.get(k) && n !== props.current.get(k)) changed.set(k, n);
  }
  const save = useMutation({
    mutationFn: () => ar.setQuota(props.svc, props.project, changed),
    onSuccess: () => (
      void qc.invalidateQueries({ queryKey: ["admin", "quota", props.svc, props.project] }),
      props.onClose()
    ),
  });
  return (
    <FormDialog
      id="quota-form"
      title={`${TITLES[props.svc]} quotas of ${props.name}`}
      submit="Save"
      busy={save.isPending}
      error={save.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if ([...errors.values()].some(Boolean)) return;
        if (changed.size) save.mutate();
        else props.onClose();
      }}
    >
      <p>-1 means unlimited.</p>
      {fields.map(([k, label]) => (
        <Field key={k} label={label} id={`quota-${k}`} error={errors.get(k)} shown={shown} required>
          <TextInput
            id={`quota-${k}`}
            inputMode="numeric"
            value={values.get(k) ?? ""}
            onChange={(_e, v) => setValues(new Map(values).set(k, v))}
            validated={shown && errors.get(k) ? "error" : "default"}
          />
        </Field>
      ))}
    </FormDialog>
  );
}

/** One service's card: its limits for the project and the Edit button. */
function QuotaCard({ svc, project, name }: { svc: QuotaService; project: string; name: string }) {
  const { ar } = useAdminCalls();
  const q = useQuery({ queryKey: ["admin", "quota", svc, project], queryFn: () => ar.quota(svc, project) });
  const [editing, setEditing] = useState(false);
  return (
    <Card isCompact data-testid={`quota-${svc}`}>
      <CardHeader
        actions={{
          actions: (
            <Button
              size="sm"
              variant="secondary"
              isDisabled={!q.data}
              onClick={() => setEditing(true)}
              aria-label={`Edit ${TITLES[svc]} quotas`}
            >
              Edit
            </Button>
          ),
          hasNoOffset: true,
        }}
      >
        <CardTitle component="h2">{TITLES[svc]}</CardTitle>
      </CardHeader>
      <CardBody>
        <ErrorAlert error={q.error} title={`Could not load the ${TITLES[svc].toLowerCase()} quotas`} />
        {q.isLoading ? (
          <Loading what={`${TITLES[svc]} quotas`} />
        ) : (
          q.data && (
            <DescriptionList isHorizontal isCompact>
              {QUOTA_FIELDS[svc]
                .filter(([k]) => q.data.has(k))
                .map(([k, label]) => (
                  <DescriptionListGroup key={k}>
                    <DescriptionListTerm>{label}</DescriptionListTerm>
                    <DescriptionListDescription data-quota={k}>
                      {limitText(q.data.get(k))}
                    </DescriptionListDescription>
                  </DescriptionListGroup>
                ))}
            </DescriptionList>
          )
        )}
      </CardBody>
      {editing && q.data && (
        <EditQuota
          svc={svc}
          project={project}
          name={name}
          current={q.data}
          onClose={() => setEditing(false)}
        />
      )}
    </Card>
  );
}

/** The Quotas page's content. */
function QuotasContent() {
  const { ar } = useAdminCalls();
  const { session } = useApi();
  const projects = useProjects();
  const [project, setProject] = useState(session.project.id);
  const services = (["compute", "network", "volume"] as const).filter((s) => ar.hasQuota(s));
  const options: Array<{ id: string; name: string }> = projects.data ?? [
    { id: session.project.id, name: session.project.name },
  ];
  return (
    <>
      <PageTitle title="Quotas" />
      <PageSection>
        <FormGroup label="Project" fieldId="quota-project">
          <FormSelect
            id="quota-project"
            value={project}
            onChange={(_e, v) => setProject(v)}
            style={{ maxWidth: "24rem" }}
          >
            {options.map((p) => (
              <FormSelectOption key={p.id} value={p.id} label={p.name} />
            ))}
          </FormSelect>
        </FormGroup>
        <ErrorAlert error={projects.error} title="Could not load the projects" />
      </PageSection>
      <PageSection>
        <Gallery hasGutter minWidths={{ default: "18rem" }}>
          {services.map((s) => (
            <QuotaCard key={`${s}-${project}`} svc={s} project={project} name={projects.name(project)} />
          ))}
        </Gallery>
      </PageSection>
    </>
  );
}

/** The Quotas page. */
export default adminPage(QuotasContent);

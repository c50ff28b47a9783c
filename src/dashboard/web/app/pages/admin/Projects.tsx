// Projects: every project with its domain; create (name checked before sending), enable/disable, and delete after
// confirmation.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AdminProject } from "../../../api/admin-identity.js";
import { Button, Label } from "../../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useDomains, useProjects } from "./common.js";
import { CreateInDomain } from "./CreateInDomain.js";

const KEY = ["admin", "projects"];

/** The Projects page's content. */
function ProjectsContent() {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const projects = useProjects();
  const domains = useDomains();
  const [creating, setCreating] = useState(false);
  const [confirm, setConfirm] = useState<{ p: AdminProject; what: "delete" | "disable" } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: KEY });
  const del = useMutation({ mutationFn: ai.deleteProject, onSettled: refresh });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => ai.setProjectEnabled(id, enabled),
    onSettled: refresh,
  });
  return (
    <>
      <PageTitle title="Projects">
        <Button onClick={() => setCreating(true)}>Create Project</Button>
      </PageTitle>
      {(del.error || toggle.error) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error ?? toggle.error} />
        </div>
      )}
      <ResourceTable<AdminProject>
        label="projects"
        rows={projects.data}
        loading={projects.isLoading}
        error={projects.error}
        rowKey={(p) => p.id}
        filterText={(p) => `${p.name} ${p.id} ${domains.name(p.domain_id)} ${p.description}`}
        empty="Create a project to give users their own resources and quotas."
        columns={[
          { title: "Name", cell: (p) => p.name },
          { title: "ID", cell: (p) => <code>{p.id}</code> },
          { title: "Domain", cell: (p) => domains.name(p.domain_id) },
          { title: "Description", cell: (p) => p.description || "-" },
          {
            title: "Enabled",
            cell: (p) => (
              <Label isCompact color={p.enabled ? "green" : "grey"}>
                {p.enabled ? "Yes" : "No"}
              </Label>
            ),
          },
        ]}
        actions={(p) => (
          <>
            {p.enabled ? (
              <Button
                size="sm"
                variant="secondary"
                onClick={() => setConfirm({ p, what: "disable" })}
                aria-label={`Disable ${p.name}`}
              >
                Disable
              </Button>
            ) : (
              <Button
                size="sm"
                variant="secondary"
                onClick={() => toggle.mutate({ id: p.id, enabled: true })}
                aria-label={`Enable ${p.name}`}
              >
                Enable
              </Button>
            )}
            <Button
              size="sm"
              variant="danger"
              onClick={() => setConfirm({ p, what: "delete" })}
              aria-label={`Delete ${p.name}`}
            >
              Delete
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!confirm}
        title={confirm?.what === "delete" ? "Delete project?" : "Disable project?"}
        body={
          confirm?.what === "delete" ? (
            <>The project {confirm.p.name} is deleted; its resources are left without a project.</>
          ) : (
            <>Users can no longer log in to {confirm?.p.name}; its tokens stop working.</>
          )
        }
        action={confirm?.what === "delete" ? "Delete" : "Disable"}
        onClose={() => setConfirm(null)}
        onConfirm={() => {
          if (confirm?.what === "delete") del.mutate(confirm.p.id);
          else if (confirm) toggle.mutate({ id: confirm.p.id, enabled: false });
          setConfirm(null);
        }}
      />
      {creating && (
        <CreateInDomain
          kind="project"
          maxName={64}
          create={ai.createProject}
          refresh={KEY}
          onClose={() => setCreating(false)}
        />
      )}
    </>
  );
}

/** The Projects page. */
export default adminPage(ProjectsContent);

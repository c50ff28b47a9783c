// Projects: every project with its domain; create (name checked before sending), enable/disable, and delete after
// confirmation.
import { useState } from "react";
import type { AdminProject } from "../../../api/admin-identity.js";
import { Button } from "../../pf.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useDomains, useProjects } from "./common.js";
import { CreateInDomain } from "./CreateInDomain.js";
import { EnabledLabel, useEnableDelete } from "./enable-delete.js";

const KEY = ["admin", "projects"];

/** The Projects page's content. */
function ProjectsContent() {
  const { ai } = useAdminCalls();
  const projects = useProjects();
  const domains = useDomains();
  const [creating, setCreating] = useState(false);
  const rows = useEnableDelete<AdminProject>({
    noun: "project",
    queryKey: KEY,
    setEnabled: ai.setProjectEnabled,
    remove: ai.deleteProject,
    deleteBody: (p) => <>The project {p.name} is deleted; its resources are left without a project.</>,
    disableBody: (p) => <>Users can no longer log in to {p.name}; its tokens stop working.</>,
  });
  return (
    <>
      <PageTitle title="Projects">
        <Button onClick={() => setCreating(true)}>Create Project</Button>
      </PageTitle>
      {rows.error}
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
            cell: (p) => <EnabledLabel enabled={p.enabled} />,
          },
        ]}
        actions={rows.actions}
      />
      {rows.dialog}
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

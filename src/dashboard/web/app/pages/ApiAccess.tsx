// API Access: the catalog's public endpoints, and clouds.yaml / openrc files generated in the browser.
import { cloudsYaml, openrc } from "../../api/clients-config.js";
import type { Endpoint } from "../../api/session.js";
import { Button } from "../pf.js";
import { useApi } from "../session.js";
import { download, PageTitle, ResourceTable } from "../ui.js";

/** The API Access page. */
export default function ApiAccess() {
  const { session } = useApi();
  const identity = session.catalog.find((e) => e.type === "identity");
  const authUrl = new URL(identity?.url ?? "/identity", location.origin).href.replace(/\/+$/, "");
  const region = identity?.region || "RegionOne";
  return (
    <>
      <PageTitle title="API Access">
        <Button
          onClick={() =>
            download("clouds.yaml", cloudsYaml(session, `${authUrl}/v3`, region), "application/yaml")
          }
        >
          Download clouds.yaml
        </Button>
        <Button
          variant="secondary"
          onClick={() =>
            download(
              `${session.project.name}-openrc.sh`,
              openrc(session, `${authUrl}/v3`, region),
              "text/x-shellscript",
            )
          }
        >
          Download OpenStack RC File
        </Button>
      </PageTitle>
      <ResourceTable<Endpoint>
        label="endpoints"
        rows={session.catalog}
        loading={false}
        rowKey={(e) => `${e.type} ${e.url}`}
        filterText={(e) => `${e.type} ${e.name} ${e.url}`}
        empty="The catalog is empty."
        columns={[
          { title: "Service", cell: (e) => e.type },
          { title: "Name", cell: (e) => e.name },
          { title: "Region", cell: (e) => e.region },
          { title: "Service Endpoint", cell: (e) => <code>{e.url}</code> },
        ]}
      />
    </>
  );
}

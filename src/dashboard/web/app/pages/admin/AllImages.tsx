// Every project's images (an admin's image list holds them all): owner, status, visibility, format and size.
import { useQuery } from "@tanstack/react-query";
import type { Image } from "../../../api/resources.js";
import { formatBytes, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useProjects } from "./common.js";

/** The All Images page's content. */
function AllImagesContent() {
  const { ar } = useAdminCalls();
  const projects = useProjects();
  const images = useQuery({ queryKey: ["admin", "images"], queryFn: ar.allImages });
  return (
    <>
      <PageTitle title="All Images" />
      <ResourceTable<Image>
        label="images of every project"
        rows={images.data}
        loading={images.isLoading}
        error={images.error}
        rowKey={(i) => i.id}
        filterText={(i) => `${i.name ?? ""} ${i.id} ${i.status} ${i.visibility} ${projects.name(i.owner)}`}
        empty="No project has an image."
        columns={[
          { title: "Project", cell: (i) => projects.name(i.owner) },
          { title: "Name", cell: (i) => i.name || i.id },
          { title: "Status", cell: (i) => i.status },
          { title: "Visibility", cell: (i) => i.visibility },
          { title: "Format", cell: (i) => i.disk_format ?? "-" },
          { title: "Size", cell: (i) => (i.size === null ? "-" : formatBytes(i.size)) },
        ]}
      />
    </>
  );
}

/** The All Images page. */
export default adminPage(AllImagesContent);

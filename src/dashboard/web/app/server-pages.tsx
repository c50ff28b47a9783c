// Listings paged by the server (Swift's marker and limit): the markers of the pages walked so far, the filter sent as
// a name prefix, the page size, and the Previous/Next pager that says which names are shown out of how many.
import { useState, type ReactNode } from "react";
import type { Page, PageQuery } from "../api/objects.js";
import { Button, FormSelect, FormSelectOption } from "./pf.js";

/** The page sizes offered. */
const SIZES = [20, 50, 100, 500, 1000];

/** The paging state of one listing: the query of the current page and the controls that move it. */
export function useServerPages(initialSize = 100) {
  const [markers, setMarkers] = useState<string[]>([""]);
  const [filter, setFilterState] = useState("");
  const [size, setSizeState] = useState(initialSize);
  const marker = markers[markers.length - 1]!;
  const query: PageQuery = {
    limit: size,
    ...(marker ? { marker } : {}),
    ...(filter ? { prefix: filter } : {}),
  };
  return {
    query,
    filter,
    /** The position of the first row of the page (0-based), counted through the pages walked. */
    index: markers.length - 1,
    size,
    setFilter: (v: string) => (setFilterState(v), setMarkers([""])),
    setSize: (n: number) => (setSizeState(n), setMarkers([""])),
    next: (m: string) => setMarkers((ms) => [...ms, m]),
    previous: () => setMarkers((ms) => (ms.length > 1 ? ms.slice(0, -1) : ms)),
    reset: () => setMarkers([""]),
  };
}

/** The paging state's type. */
export type ServerPages = ReturnType<typeof useServerPages>;

/** Previous/Next, the page size, and "1-100 of 120 objects" (the total is the server's, over the whole listing). */
export function ServerPager<T>(props: {
  pages: ServerPages;
  page: Page<T> | undefined;
  label: string;
  /** How the total is said, e.g. "120 objects in the container". */
  total?(n: number): ReactNode;
}): ReactNode {
  const { pages, page } = props;
  const first = pages.index * pages.size;
  const shown = page?.rows.length ?? 0;
  return (
    <nav
      aria-label={`${props.label} pages`}
      data-testid={`${props.label}-pager`}
      style={{ display: "flex", gap: ".5rem", alignItems: "center", flexWrap: "wrap" }}
    >
      <span data-testid={`${props.label}-range`}>
        {shown ? `${first + 1}-${first + shown}` : "0"}
        {page?.total !== undefined &&
          (props.total ? <> of {props.total(page.total)}</> : ` of ${page.total}`)}
      </span>
      <FormSelect
        id={`${props.label}-page-size`}
        aria-label={`${props.label} per page`}
        value={String(pages.size)}
        onChange={(_e, v) => pages.setSize(Number(v))}
        style={{ width: "auto" }}
      >
        {SIZES.map((n) => (
          <FormSelectOption key={n} value={String(n)} label={`${n} per page`} />
        ))}
      </FormSelect>
      <Button variant="secondary" size="sm" isDisabled={pages.index === 0} onClick={pages.previous}>
        Previous
      </Button>
      <Button
        variant="secondary"
        size="sm"
        isDisabled={!page?.next}
        onClick={() => page?.next && pages.next(page.next)}
      >
        Next
      </Button>
    </nav>
  );
}

/** ResourceTable's `server` prop: the filter kept in `pages` and its pager over `page`. */
export function serverListing<T>(
  pages: ServerPages,
  page: Page<T> | undefined,
  label: string,
  total: (n: number) => ReactNode,
) {
  return {
    filter: pages.filter,
    onFilter: pages.setFilter,
    pager: <ServerPager pages={pages} page={page} label={label} total={total} />,
  };
}

/** "1 thing" or "n things". */
export const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? "" : "s"}`;

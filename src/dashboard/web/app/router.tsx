// A small client-side router over the History API: the current path, navigation, and links.
import { useEffect, useState, type MouseEvent, type ReactNode } from "react";

const listeners = new Set<() => void>();

/** Go to a path inside the dashboard (pushes a history entry unless `replace`). */
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const l of listeners) l();
}

/** The current location's path and query, re-rendering on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    addEventListener("popstate", l);
    return () => {
      listeners.delete(l);
      removeEventListener("popstate", l);
    };
  }, []);
  return { path: location.pathname, search: new URLSearchParams(location.search) };
}

/** An anchor that navigates without reloading the page. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  "aria-current"?: "page";
}) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} aria-current={props["aria-current"]}>
      {props.children}
    </a>
  );
}

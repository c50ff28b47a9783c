// The session's Block Storage, Object Storage and router calls, made once per session for the pages using them.
import { useMemo } from "react";
import { imageCalls } from "../api/images.js";
import { objectCalls } from "../api/objects.js";
import { portCalls } from "../api/ports.js";
import { routerCalls } from "../api/routers.js";
import { volumeCalls } from "../api/volumes.js";
import { useApi } from "./session.js";

/** The Block Storage calls of the session, and the project id the query keys use. */
export function useVolumeCalls() {
  const { api, session } = useApi();
  return { v: useMemo(() => volumeCalls(api), [api]), project: session.project.id };
}

/** The Object Storage calls of the session, and the project id the query keys use. */
export function useObjectCalls() {
  const { api, session } = useApi();
  return { o: useMemo(() => objectCalls(api), [api]), project: session.project.id };
}

/** The router calls of the session, and the project id the query keys use. */
export function useRouterCalls() {
  const { api, session } = useApi();
  return { rt: useMemo(() => routerCalls(api), [api]), project: session.project.id };
}

/** The image editing calls of the session, and the project id the query keys use. */
export function useImageCalls() {
  const { api, session } = useApi();
  return { im: useMemo(() => imageCalls(api), [api]), project: session.project.id };
}

/** The port calls of the session. */
export function usePortCalls() {
  const { api } = useApi();
  return { pt: useMemo(() => portCalls(api), [api]) };
}

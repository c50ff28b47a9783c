/** One application-credential access rule: which service, path glob and method a token may call. */
export interface AccessRule {
  service: string;
  path: string;
  method: string;
}

const compiled = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (!re) {
    const body = glob
      .split("/")
      .map((seg) =>
        seg === "**"
          ? "@@ANY@@"
          : seg === "*"
            ? "[^/]+"
            : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\*/g, "[^/]*"),
      )
      .join("/")
      .replace(/\/@@ANY@@/g, "(?:/.*)?");
    re = new RegExp(`^${body}/?$`);
    compiled.set(glob, re);
  }
  return re;
}

/** Whether a request (service type, method, path below the endpoint) is allowed by any rule. */
export function matchesAccessRules(
  rules: AccessRule[],
  serviceType: string,
  method: string,
  path: string,
): boolean {
  const m = method === "HEAD" ? "GET" : method;
  return rules.some(
    (r) =>
      r.service === serviceType &&
      (r.method.toUpperCase() === m || r.method.toUpperCase() === method) &&
      globToRegExp(r.path).test(path),
  );
}

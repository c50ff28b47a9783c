// Light and dark themes: PatternFly's dark theme is a class on <html>; the choice is kept in localStorage.

/** A theme name. */
export type Theme = "light" | "dark";

/** The theme chosen before, else the system's preference. */
export function storedTheme(): Theme {
  const t = localStorage.getItem("stratus.theme");
  if (t === "light" || t === "dark") return t;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Apply and remember a theme. */
export function applyTheme(t: Theme): void {
  document.documentElement.classList.toggle("pf-v6-theme-dark", t === "dark");
  localStorage.setItem("stratus.theme", t);
}

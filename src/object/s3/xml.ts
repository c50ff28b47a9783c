// The little XML S3 speaks: documents built from nested values, and the few request bodies it reads (multipart
// completion, multi-delete) taken apart by element name, with their size bounded by the caller.

/** Whether a character cannot appear in XML 1.0 (control characters other than tab, newline and return). */
const invalidChar = (c: string): boolean => {
  const n = c.charCodeAt(0);
  return n < 0x20 && n !== 0x09 && n !== 0x0a && n !== 0x0d;
};

const ENTITIES: ReadonlyMap<string, string> = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
  ['"', "&quot;"],
  ["'", "&apos;"],
]);

/** Escape text for an XML element or attribute (characters XML cannot hold become numeric references). */
export const escapeXml = (s: string): string =>
  !/[&<>"'\p{Cc}]/u.test(s)
    ? s
    : [...s].map((c) => ENTITIES.get(c) ?? (invalidChar(c) ? `&#${c.charCodeAt(0)};` : c)).join("");

/** An element's content: text, nested elements (repeated names as arrays), or nothing. */
export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlNode[];
/** Child elements by name, in insertion order; an array value repeats the element. */
export interface XmlNode {
  [name: string]: XmlValue | XmlValue[];
}

function render(name: string, v: XmlValue | XmlValue[]): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return v.map((x) => render(name, x)).join("");
  if (v === null) return `<${name}/>`;
  if (typeof v === "object") return `<${name}>${children(v)}</${name}>`;
  return `<${name}>${escapeXml(String(v))}</${name}>`;
}

/** One element (repeated for an array value), for documents whose children interleave names. */
export const xmlElement = (name: string, v: XmlValue | XmlValue[]): string => render(name, v);

const children = (n: XmlNode): string =>
  Object.entries(n)
    .map(([k, v]) => render(k, v))
    .join("");

/** A whole S3 document: declaration, root element with the S3 namespace, children. */
export function xmlDocument(root: string, body: XmlNode, ns = true): string {
  const attr = ns ? ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attr}>${children(body)}</${root}>`;
}

const unescapeXml = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l.startsWith("#x")) return String.fromCodePoint(parseInt(l.slice(2), 16));
    if (l.startsWith("#")) return String.fromCodePoint(parseInt(l.slice(1), 10));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[l];
  });

/** The raw inner XML of every `<name>` element (namespace prefixes ignored), in order. */
export function elements(xml: string, name: string): string[] {
  const re = new RegExp(
    `<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</(?:[\\w-]+:)?${name}\\s*>)`,
    "g",
  );
  return [...xml.matchAll(re)].map((m) => m[1] ?? "");
}

/** The text of the first `<name>` element, unescaped (CDATA kept as is), or undefined. */
export function text(xml: string, name: string): string | undefined {
  const e = elements(xml, name)[0];
  if (e === undefined) return undefined;
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(e);
  return cdata ? cdata[1] : unescapeXml(e);
}

/** Whether a body looks like one XML document with this root element. */
export const hasRoot = (xml: string, root: string): boolean =>
  new RegExp(`^\\s*(<\\?xml[^>]*\\?>\\s*)?<(?:[\\w-]+:)?${root}[\\s>/]`).test(xml);

// Turns the offline verifier's built HTML into one self-contained file: the entry chunk and the CSS are
// inlined, and a Content-Security-Policy that forbids every network connection is added (the script is allowed
// by its SHA-256 hash). Module scripts do not load from file://, inline ones do.
import { createHash } from "node:crypto";

/** Patterns of anything that could reach the network from the page. The build fails if one appears. */
const NETWORK = [/\bfetch\(/, /XMLHttpRequest/, /new WebSocket\b/, /\bsendBeacon\b/, /new EventSource\b/, /\bimportScripts\(/];

export function networkCalls(text: string): string[] {
  return NETWORK.filter((re) => re.test(text)).map((re) => re.source);
}

/** Escapes what would end an inline <script> early; `<\/` means `</` inside JS strings, templates and regexes. */
const scriptSafe = (js: string) => js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");

export function inlineHtml(html: string, scripts: Record<string, string>, styles: Record<string, string>): string {
  let out = html;
  const hashes: string[] = [];
  out = out.replace(/<script type="module" crossorigin src="[./]*([^"]+)"><\/script>/g, (_m, file: string) => {
    const code = scripts[file];
    if (code === undefined) throw new Error(`offline verifier: no chunk ${file} to inline`);
    const body = scriptSafe(code);
    hashes.push(`'sha256-${createHash("sha256").update(body).digest("base64")}'`);
    return `<script type="module">${body}</script>`;
  });
  out = out.replace(/<link rel="stylesheet" crossorigin href="[./]*([^"]+)">/g, (_m, file: string) => {
    const css = styles[file];
    if (css === undefined) throw new Error(`offline verifier: no stylesheet ${file} to inline`);
    return `<style>${css.replace(/<\/(style)/gi, "<\\/$1")}</style>`;
  });
  // Judge the page's own markup, not the inlined code (React's source mentions "<script" in strings).
  const skeleton = out.replace(/<script type="module">[\s\S]*?<\/script>/g, "<script></script>").replace(/<style>[\s\S]*?<\/style>/g, "<style></style>");
  if (/<script[^>]+src=|<link[^>]+href=|modulepreload/.test(skeleton)) throw new Error(`offline verifier: an external script or stylesheet is left: ${skeleton}`);
  const csp = `default-src 'none'; script-src ${hashes.join(" ")}; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'`;
  out = out.replace("<head>", `<head>\n    <meta http-equiv="Content-Security-Policy" content="${csp}" />`);
  const calls = networkCalls(out);
  if (calls.length) throw new Error(`offline verifier: the page could reach the network (${calls.join(", ")})`);
  return out;
}

// @vitest-environment node
import { describe, expect, it } from "vitest";
import { inlineHtml, networkCalls } from "./inline";

const html = `<!doctype html><html><head><script type="module" crossorigin src="./assets/verify-abc.js"></script><link rel="stylesheet" crossorigin href="./assets/verify-x.css"></head><body></body></html>`;

describe("offline verifier inlining", () => {
  it("inlines the chunk and the CSS and forbids every connection by CSP", () => {
    const out = inlineHtml(html, { "assets/verify-abc.js": "console.log('</script>')" }, { "assets/verify-x.css": "body{}" });
    expect(out).toContain(`<script type="module">console.log('<\\/script>')</script>`);
    expect(out).toContain("<style>body{}</style>");
    expect(out).toMatch(/connect-src 'none'/);
    expect(out).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(out).not.toMatch(/src="/);
  });
  it("refuses a page that could call the network", () => {
    expect(networkCalls("a=fetch(u)")).toHaveLength(1);
    expect(networkCalls("new XMLHttpRequest()")).toHaveLength(1);
    expect(() => inlineHtml(html, { "assets/verify-abc.js": "fetch('/api/v1/x')" }, { "assets/verify-x.css": "" })).toThrow(/network/);
  });
  it("refuses a missing chunk", () => {
    expect(() => inlineHtml(html, {}, {})).toThrow(/no chunk/);
  });
});

// `vite build` also builds the offline verifier (verify.html) as a second, separate build into dist/: one
// chunk, no code splitting, then inlined into a single HTML file (scripts/inline.ts).
import path from "node:path";
import { build, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { inlineHtml } from "./inline";

function inlinePlugin(): Plugin {
  return {
    name: "medledger-inline-offline",
    enforce: "post",
    generateBundle(_options, bundle) {
      const scripts: Record<string, string> = {};
      const styles: Record<string, string> = {};
      for (const [file, item] of Object.entries(bundle)) {
        if (item.type === "chunk") scripts[file] = item.code;
        else if (file.endsWith(".css")) styles[file] = String(item.source);
      }
      const html = bundle["verify.html"];
      if (!html || html.type !== "asset") throw new Error("offline verifier: verify.html missing from the bundle");
      html.source = inlineHtml(String(html.source), scripts, styles);
      for (const file of Object.keys(bundle)) if (file !== "verify.html") delete bundle[file];
    },
  };
}

export function offlineVerifier(): Plugin {
  let root = "";
  let outDir = "dist";
  return {
    name: "medledger-offline-verifier",
    apply: "build",
    configResolved(c) {
      root = c.root;
      outDir = c.build.outDir;
    },
    async closeBundle() {
      await build({
        configFile: false,
        root,
        base: "./",
        logLevel: "warn",
        plugins: [react(), tailwindcss(), inlinePlugin()],
        build: {
          outDir: path.resolve(root, outDir),
          emptyOutDir: false,
          modulePreload: false,
          cssCodeSplit: false,
          assetsInlineLimit: 100_000_000,
          chunkSizeWarningLimit: 2000,
          rollupOptions: { input: path.resolve(root, "verify.html"), output: { inlineDynamicImports: true } },
        },
      });
    },
  };
}

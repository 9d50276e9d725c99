/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { offlineVerifier } from "./scripts/offline-build";

export default defineConfig({
  plugins: [react(), tailwindcss(), offlineVerifier()],
  server: {
    proxy: { "/api": process.env.MEDLEDGER_API ?? "http://127.0.0.1:8080", "/log": process.env.MEDLEDGER_API ?? "http://127.0.0.1:8080" },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    css: false,
    testTimeout: 20_000,
  },
});

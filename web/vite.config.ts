/// <reference types="vitest/config" />
import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

import { routes } from "./routes.ts";

// The console serves dist/ at / and forwards /api/… to the services; `npm run dev` proxies /api to a running console.
export default defineConfig({
  plugins: [
    tanstackRouter({
      target: "react",
      autoCodeSplitting: true,
      routesDirectory: "./src/routes",
      generatedRouteTree: "./src/routeTree.gen.ts",
      virtualRouteConfig: routes,
    }),
    react(),
  ],
  server: {
    proxy: { "/api": process.env.TESSERA_CONSOLE_URL ?? "http://127.0.0.1:8000" },
  },
  build: {
    sourcemap: true,
    // dist/.vite/manifest.json: which chunks each module needs (scripts/size.mjs reads it).
    manifest: true,
    chunkSizeWarningLimit: 700,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
    testTimeout: 20_000,
  },
});

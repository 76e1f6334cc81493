// The typed clients, one per OpenAPI document (`npm run generate-client`; the Python suite checks they are current).
// Each service is reached through the console, which forwards /api/<service>/… with the user's token.
import { defineConfig } from "@hey-api/openapi-ts";

const out = process.env.TESSERA_CLIENT_OUT ?? "src/client";

const documents = [
  { name: "console", baseUrl: "" }, // its document's paths already start with /api
  { name: "tracking", baseUrl: "/api/tracking" },
  { name: "profiles", baseUrl: "/api/profiles" },
  { name: "segmentation", baseUrl: "/api/segmentation" },
  { name: "campaigns", baseUrl: "/api/campaigns" },
];

// FastAPI names an operation `<function>_<path with _ for non-word characters>_<method>`: keep the function name,
// so the SDK reads `listSegments`, not `listSegmentsV1SegmentsGet` (what the template's methodNameBuilder did).
function fastapiName(method: string, path: string, operation: { operationId?: string }): void {
  const suffix = `${path.replace(/\W/g, "_")}_${method.toLowerCase()}`;
  if (operation.operationId?.endsWith(suffix)) {
    operation.operationId = operation.operationId.slice(0, -suffix.length);
  }
}

export default defineConfig(
  documents.map(({ name, baseUrl }) => ({
    input: `./openapi/${name}.json`,
    output: { path: `${out}/${name}` },
    logs: { level: "silent" as const },
    parser: { patch: { operations: fastapiName } },
    plugins: [
      { name: "@hey-api/client-fetch" as const, baseUrl },
      "@hey-api/typescript" as const,
      "@hey-api/sdk" as const,
      "@tanstack/react-query" as const,
    ],
  })),
);

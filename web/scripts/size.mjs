#!/usr/bin/env node
// The JavaScript a browser loads for the first screen (the overview at /, behind the login check), gzipped:
// the entry chunk, the lazy chunks of the routes that match /, and everything they import statically.
// Usage: node scripts/size.mjs [route files…]   (after `npm run build`; exits 1 above the budget)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 300;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));
const routes = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["src/routes/__root.tsx", "src/routes/console-layout.tsx", "src/routes/overview/index.tsx"];

const chunks = new Set();
function visit(key) {
  const chunk = manifest[key];
  if (!chunk || chunks.has(chunk.file)) return;
  chunks.add(chunk.file);
  for (const imported of chunk.imports ?? []) visit(imported);
}
for (const [key, chunk] of Object.entries(manifest)) {
  const source = key.split("?")[0];
  if (chunk.isEntry || routes.includes(source)) visit(key);
}

const kb = (bytes) => (bytes / 1024).toFixed(1);
let raw = 0;
let gzipped = 0;
const rows = [...chunks]
  .filter((file) => file.endsWith(".js"))
  .map((file) => {
    const bytes = readFileSync(join(dist, file));
    const gz = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gzipped += gz;
    return { file, raw: bytes.length, gz };
  })
  .sort((a, b) => b.gz - a.gz);
for (const row of rows) console.log(`${kb(row.gz).padStart(8)} KB gz  ${kb(row.raw).padStart(8)} KB  ${row.file}`);
console.log(`${kb(gzipped).padStart(8)} KB gz  ${kb(raw).padStart(8)} KB  initial JavaScript of ${routes.join(", ")} (budget ${BUDGET_KB} KB gz)`);
process.exit(gzipped / 1024 > BUDGET_KB ? 1 : 0);

import "@testing-library/jest-dom/vitest";

import { cleanup, configure } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

import { clients } from "../api/clients";

// Screens rendered through the real router load their route chunks first: on a busy machine that takes seconds.
configure({ asyncUtilTimeout: 5_000 });

// jsdom lacks what Mantine measures with.
Object.defineProperty(window, "matchMedia", {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false,
  }),
});
class ResizeObserverStub {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
window.ResizeObserver = ResizeObserverStub;
window.HTMLElement.prototype.scrollIntoView = () => undefined;

// Component tests never reach a server: the clients get absolute URLs (Node's fetch needs them) and every request
// answers 404 unless a test says otherwise; screens under test read what the test put in the query cache.
for (const client of clients) {
  const base = client.getConfig().baseUrl ?? "";
  if (!base.startsWith("http")) client.setConfig({ baseUrl: `http://tessera.test${base}` });
}

export const notFound = () =>
  Promise.resolve(
    new Response(JSON.stringify({ error: { code: "not_found", message: "Not found.", fields: [] } }), {
      status: 404,
      headers: { "content-type": "application/json" },
    }),
  );

beforeEach(() => {
  vi.stubGlobal("fetch", vi.fn(notFound));
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

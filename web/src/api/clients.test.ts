import { afterEach, describe, expect, it, vi } from "vitest";

import { safeRedirect } from "../auth/session";
import { logIn as login } from "../client/console/sdk.gen";
import { createSegment, listSegments } from "../client/segmentation/sdk.gen";
import { configureClients } from "./clients";
import { ApiError, fieldErrors } from "./errors";

const ended = vi.fn();
configureClients({ csrfToken: () => "token-1", onSessionEnded: ended });

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  const fetch = vi.fn((_request: Request) =>
    Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })),
  );
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

const error = (code: string, message: string, fields: { field: string; reason: string }[] = []) => ({ error: { code, message, fields } });

afterEach(() => ended.mockClear());

describe("the generated clients, as configured", () => {
  it("send the CSRF token on unsafe methods only", async () => {
    const fetch = answer(201, { id: "s" });
    await createSegment({ body: { name: "x", definition: { and: [] } }, throwOnError: true });
    await listSegments({ throwOnError: true });
    const [post, get] = fetch.mock.calls.map(([request]) => request);
    expect(post?.headers.get("X-CSRF-Token")).toBe("token-1");
    expect(get?.headers.get("X-CSRF-Token")).toBeNull();
    expect(new URL(get?.url ?? "").pathname).toBe("/api/segmentation/v1/segments");
  });

  it("turn the shared error shape into an ApiError with its fields", async () => {
    answer(422, error("invalid", "The segment definition is not valid", [{ field: "definition.and[0].op", reason: "bad op" }]));
    const failure = await createSegment({ body: { name: "x", definition: {} }, throwOnError: true }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(422);
    expect(fieldErrors(failure, "definition")).toEqual({ "and[0].op": "bad op" });
  });

  it("send people back to the login page when the session has ended", async () => {
    answer(401, error("unauthorized", "No session"));
    await expect(listSegments({ throwOnError: true })).rejects.toMatchObject({ status: 401 });
    expect(ended).toHaveBeenCalledOnce();
  });

  it("do not treat a wrong password as an ended session, and read Retry-After", async () => {
    answer(401, error("unauthorized", "E-mail or password is wrong."));
    await expect(login({ body: { email: "a@b.c", password: "x" }, throwOnError: true })).rejects.toMatchObject({
      status: 401,
      message: "E-mail or password is wrong.",
    });
    answer(429, error("rate_limited", "Too many attempts."), { "retry-after": "30" });
    await expect(login({ body: { email: "a@b.c", password: "x" }, throwOnError: true })).rejects.toMatchObject({ retryAfter: 30 });
    expect(ended).not.toHaveBeenCalled();
  });
});

describe("after logging in", () => {
  it("goes back only to pages of this app", () => {
    expect(safeRedirect("/segments/s1?tab=members")).toBe("/segments/s1?tab=members");
    expect(safeRedirect("https://evil.example/")).toBe("/");
    expect(safeRedirect("//evil.example/")).toBe("/");
    expect(safeRedirect("/\\evil.example")).toBe("/");
    expect(safeRedirect("/login?redirect=/x")).toBe("/");
    expect(safeRedirect(undefined)).toBe("/");
  });
});

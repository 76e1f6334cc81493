import { describe, expect, it } from "vitest";

import { createBody, emptyValues, errorLine, validate } from "./values";

describe("campaign editor values", () => {
  it("checks what it can before sending", () => {
    const errors = validate({ ...emptyValues(), variants: [{ name: "A", weight: 1, subject: "", body: "" }, { name: "A", weight: 1, subject: "", body: "" }] });
    expect(errors.name).toBeDefined();
    expect(errors.targetSegments).toBeDefined();
    expect(errors["variants.1.name"]).toBe("Variant names must differ.");
  });

  it("builds the API's body", () => {
    const body = createBody({ ...emptyValues(), name: " Sale ", targetSegments: ["s1"], capOn: true, capMax: 2, capDays: 5, abOn: false });
    expect(body.name).toBe("Sale");
    expect(body.frequency_cap).toEqual({ max: 2, days: 5 });
    expect(body.schedule).toEqual({ type: "now" });
    expect(body.ab_test).toBeNull();
    expect(body.webhook_url).toBeNull();
  });

  it("reads the line a template error names", () => {
    expect(errorLine("unexpected '}' (line 3)")).toBe(3);
    expect(errorLine("no line")).toBeNull();
  });
});

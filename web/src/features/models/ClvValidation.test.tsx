// The CLV validation chart's figures are the API's: totals, and expected vs actual holdout purchases per number of
// calibration repeat purchases; the check runs only when asked.
import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { validateClvQueryKey } from "../../client/segmentation/@tanstack/react-query.gen";
import type { ClvValidationRead } from "../../client/segmentation/types.gen";
import { formatCount, formatNumber } from "../../lib/format";
import { renderWithProviders, testQueryClient } from "../../test/render";
import { ClvValidation, defaultPeriod } from "./ClvValidation";

const VALIDATION: ClvValidationRead = {
  calibration_end: "1997-09-30",
  holdout_end: "1998-06-30",
  time_unit: "weeks",
  holdout_length: 39,
  customers: 2357,
  bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, log_likelihood: -9582.4 },
  expected_total: 1654.2,
  actual_total: 1882,
  buckets: [
    { purchases: "0", customers: 1411, expected: 0.228, actual: 0.236 },
    { purchases: "1", customers: 439, expected: 0.683, actual: 0.697 },
    { purchases: "7+", customers: 61, expected: 5.102, actual: 5.754 },
  ],
  freshness: { as_of: "2026-12-05T10:00:00Z", lag: 0, replica_lag: 0, upstream_pending: 0, checked_at: "2026-12-05T10:00:01Z" },
};

describe("CLV validation on the Models page", () => {
  it("asks first, then shows expected and actual purchases per bucket as the API gives them", async () => {
    const client = testQueryClient();
    client.setQueryData(validateClvQueryKey({ query: defaultPeriod() }), VALIDATION);
    renderWithProviders(<ClvValidation />, { role: "analyst", client });
    expect(screen.getByText(/Choose a period and check/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Check" }));
    const table = await screen.findByRole("table", { name: "Expected and actual holdout purchases" });
    for (const b of VALIDATION.buckets) {
      const row = within(table).getByTestId(`bucket-${b.purchases}`);
      expect(row).toHaveTextContent(formatCount(b.customers));
      expect(row).toHaveTextContent(formatNumber(b.expected, 3));
      expect(row).toHaveTextContent(formatNumber(b.actual, 3));
    }
    expect(screen.getByRole("region", { name: "Expected repeat purchases" })).toHaveTextContent(formatNumber(VALIDATION.expected_total, 0));
    expect(screen.getByRole("region", { name: "Actual repeat purchases" })).toHaveTextContent(formatCount(VALIDATION.actual_total));
    expect(screen.getByRole("region", { name: "Customers checked" })).toHaveTextContent(formatCount(VALIDATION.customers));
    expect(screen.getByText(/profiles as of/)).toBeInTheDocument();
  });
});

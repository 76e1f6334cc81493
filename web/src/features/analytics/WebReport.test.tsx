import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { formatCount, formatCurrency, formatDuration, formatNumber, formatPercent } from "../../lib/format";
import { renderWithProviders } from "../../test/render";
import { WebReportTable, dailyChartData, type WebReportAnswer } from "./WebReport";

const m = (sessions: number, converted: number) => ({
  sessions,
  bounce_rate: 0.4321,
  avg_session_seconds: 93.5,
  pages_per_session: 3.123456,
  conversion_rate: 0.051234,
  converted_sessions: converted,
  revenue: 1234.56,
});

const REPORT: WebReportAnswer = {
  from: "2026-11-01T00:00:00Z",
  to: "2026-12-01T00:00:00Z",
  segment_id: null,
  by: "utm_source",
  groups: [{ key: "newsletter", ...m(1520, 78) }, { key: "(none)", ...m(311, 9) }],
  daily: [{ day: "2026-11-01", ...m(61, 3) }, { day: "2026-11-02", ...m(72, 5) }],
  total: m(1831, 87),
};

describe("web report", () => {
  it("shows each group's figures as the API gives them", () => {
    renderWithProviders(<WebReportTable report={REPORT} />);
    const cells = within(screen.getByTestId("group-newsletter")).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual([formatCount(1520), formatPercent(0.4321), formatDuration(93.5), formatNumber(3.123456, 2), formatPercent(0.051234, 2), formatCurrency(1234.56)]);
    expect(screen.getByTestId("group-total")).toHaveTextContent(formatCount(REPORT.total.sessions));
  });

  it("charts the API's daily figures", () => {
    expect(dailyChartData(REPORT).map((d) => [d.Sessions, d["Converted sessions"]])).toEqual([
      [61, 3],
      [72, 5],
    ]);
  });
});

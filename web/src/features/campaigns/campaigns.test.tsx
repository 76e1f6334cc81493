// Every figure the campaigns screens show is the API's, formatted: these render them from fixed answers.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { formatCount, formatCurrency, formatInterval, formatNumber, formatPercent, formatSignedPercent } from "../../lib/format";
import { renderWithProviders } from "../../test/render";
import { CampaignResultsView } from "./CampaignResultsView";
import { FunnelTable, funnelArms, funnelChartData } from "./Funnel";
import { PREFLIGHT, RESULTS } from "./fixtures";
import { LiftChart } from "./LiftChart";
import { HoldoutLift, VariantsCompared, liftRows } from "./LiftPanel";
import { PreflightFigures } from "./PreflightPanel";
import type { VersusHoldout } from "./shapes";

const versus = RESULTS.versus_holdout as VersusHoldout;

describe("funnel", () => {
  it("charts each arm's counts exactly as the results give them", () => {
    const data = funnelChartData(funnelArms(RESULTS));
    expect(data.map((r) => r.step)).toEqual(["Sent", "Opened (human)", "Opened (machine)", "Clicked", "Converted"]);
    const [a, b] = RESULTS.variants;
    expect(data.map((r) => r.A)).toEqual([a?.sent, a?.human_opens, a?.machine_opens, a?.clicks, a?.conversions]);
    expect(data.map((r) => r.B)).toEqual([b?.sent, b?.human_opens, b?.machine_opens, b?.clicks, b?.conversions]);
    expect(data.map((r) => r.Holdout)).toEqual([0, 0, 0, 0, RESULTS.holdout?.conversions]);
  });

  it("tabulates each arm's counts and rates from the results", () => {
    renderWithProviders(<FunnelTable arms={funnelArms(RESULTS)} />);
    const rowA = screen.getByTestId("arm-A");
    const a = RESULTS.variants[0];
    if (!a) throw new Error("fixture");
    const cells = within(rowA).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual([
      formatCount(a.users),
      formatCount(a.sent),
      formatCount(a.human_opens),
      formatCount(a.machine_opens),
      formatCount(a.clicks),
      formatCount(a.conversions),
      formatPercent(a.open_rate),
      formatPercent(a.click_rate),
      formatPercent(a.conversion_rate, 2),
      formatCurrency(a.revenue),
    ]);
    expect(within(screen.getByTestId("arm-Holdout")).getAllByRole("cell")[5]?.textContent).toBe(formatCount(RESULTS.holdout?.conversions));
  });
});

describe("lift against the holdout", () => {
  it("draws each lift with the API's estimate, interval and p-value", () => {
    renderWithProviders(<LiftChart title="Lift" rows={liftRows(versus)} />);
    const rows = screen.getAllByTestId("lift-row");
    expect(rows).toHaveLength(4);
    const rel = versus.conversion_rate.relative;
    const f = (v: number) => formatSignedPercent(v, 1);
    expect(rows[0]?.textContent).toContain("Conversion rate, relative");
    expect(rows[0]?.textContent).toContain(`${f(rel.lift)} (${formatInterval(rel.ci_low, rel.ci_high, f)}) p = ${formatNumber(rel.p_value, 3)}`);
    const money = versus.revenue_per_user.absolute;
    expect(rows[3]?.textContent).toContain(formatInterval(money.ci_low, money.ci_high, (v) => formatCurrency(v)));
  });

  it("places each dot and interval line where the API's estimate and bounds are, on one scale", () => {
    renderWithProviders(<LiftChart title="Lift" rows={liftRows(versus)} />);
    const lifts = liftRows(versus).map((r) => r.lift);
    const drawn = screen.getAllByTestId("lift-row").map((row) => {
      const line = row.querySelector("line");
      const dot = row.querySelector("circle");
      return [Number(line?.getAttribute("x1")), Number(dot?.getAttribute("cx")), Number(line?.getAttribute("x2"))] as const;
    });
    // One linear scale maps every API value to x: recover it from the first row, then check all the others.
    const [first] = lifts;
    const [x0, , x1] = drawn[0] ?? [0, 0, 0];
    if (!first?.computable) throw new Error("fixture");
    const scale = (x1 - x0) / (first.ci_high - first.ci_low);
    const x = (v: number) => x0 + (v - first.ci_low) * scale;
    lifts.forEach((lift, i) => {
      if (!lift.computable) throw new Error("fixture");
      const [low, estimate, high] = drawn[i] ?? [0, 0, 0];
      expect(low).toBeCloseTo(x(lift.ci_low), 6);
      expect(estimate).toBeCloseTo(x(lift.lift), 6);
      expect(high).toBeCloseTo(x(lift.ci_high), 6);
    });
  });

  it("shows the incremental conversions and revenue the API computed", () => {
    renderWithProviders(<HoldoutLift results={RESULTS} />);
    expect(screen.getByRole("region", { name: "Incremental conversions" })).toHaveTextContent(formatNumber(versus.incremental_conversions, 1));
    expect(screen.getByRole("region", { name: "Incremental revenue" })).toHaveTextContent(formatCurrency(versus.incremental_revenue));
  });

  it("says why when lift is not computable", () => {
    renderWithProviders(<HoldoutLift results={{ ...RESULTS, versus_holdout: { computable: false, reason: "no recipients yet" } }} />);
    expect(screen.getByText(/not computable yet: no recipients yet/)).toBeInTheDocument();
  });
});

describe("variants compared", () => {
  it("shows chance to beat control, risk and the sample-ratio warning from the API", () => {
    renderWithProviders(<VariantsCompared results={RESULTS} />);
    expect(screen.getByRole("alert")).toHaveTextContent("Sample ratio mismatch");
    const table = screen.getByRole("table", { name: "Variants against the control" });
    const b = RESULTS.between_variants[0];
    if (!b) throw new Error("fixture");
    const row = within(table).getByRole("row", { name: /B vs A/ });
    expect(row).toHaveTextContent(formatPercent(b.chance_to_beat_control));
    expect(row).toHaveTextContent(formatNumber(b.risk.variant, 4));
    expect(row).toHaveTextContent(formatSignedPercent(b.conversion_rate.lift, 1));
  });
});

describe("sequential testing", () => {
  it("shows the mode the API computed in and asks the API again when switched", async () => {
    const onSequential = vi.fn();
    const attribution = { model: null, windowDays: null };
    renderWithProviders(<CampaignResultsView results={RESULTS} attribution={attribution} onAttribution={() => {}} onSequential={onSequential} />);
    const toggle = screen.getByRole("switch", { name: "Sequential testing" });
    expect(toggle).not.toBeChecked();
    await userEvent.click(toggle);
    expect(onSequential).toHaveBeenCalledWith(true);
  });
});

describe("pre-flight", () => {
  it("shows the endpoint's audience, holdout, skips and variants", () => {
    renderWithProviders(<PreflightFigures preflight={PREFLIGHT} />);
    expect(screen.getByRole("region", { name: "Audience" })).toHaveTextContent(formatCount(PREFLIGHT.audience));
    expect(screen.getByRole("region", { name: "Will be sent" })).toHaveTextContent(formatCount(PREFLIGHT.sendable));
    expect(screen.getByRole("region", { name: "Holdout" })).toHaveTextContent(formatCount(PREFLIGHT.held_out));
    const skipped = screen.getByRole("table", { name: "Skipped by reason" });
    expect(within(skipped).getByRole("row", { name: /No email consent/ })).toHaveTextContent(formatCount(120));
    expect(within(skipped).getByRole("row", { name: /Over the frequency cap/ })).toHaveTextContent(formatCount(31));
    const variants = screen.getByRole("table", { name: "Recipients per variant" });
    expect(within(variants).getByRole("row", { name: /^A/ })).toHaveTextContent(formatCount(1121));
    expect(within(variants).getByRole("row", { name: /^B/ })).toHaveTextContent(formatCount(1119));
  });
});

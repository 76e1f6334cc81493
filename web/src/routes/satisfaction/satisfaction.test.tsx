// The Satisfaction page through the real router: the figures on screen are the API's; analysts cannot create surveys.
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Role } from "../../auth/session";
import { meQueryKey } from "../../auth/session";
import { getSurveyReportQueryKey, listSurveysQueryKey } from "../../client/campaigns/@tanstack/react-query.gen";
import type { BeforeAfter, ScoreRead, SurveyRead, SurveyReport } from "../../client/campaigns/types.gen";
import { listSegmentsQueryKey } from "../../client/segmentation/@tanstack/react-query.gen";
import { BeforeAfterView, formatDifference, formatFigure, trendChartData } from "../../features/satisfaction/scores";
import { formatCount, formatInterval, formatNumber } from "../../lib/format";
import { routeTree } from "../../routeTree.gen";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";

const SURVEY: SurveyRead = {
  id: "s1",
  name: "After delivery",
  kind: "nps",
  question: "Would you recommend us?",
  ask_comment: true,
  product_id: null,
  created_at: "2026-11-01T00:00:00Z",
};

const score = (value: number, low: number, high: number, responses: number): ScoreRead => ({
  kind: "nps",
  responses,
  value,
  ci_low: low,
  ci_high: high,
  std_error: 27.5681,
  promoters: 0.5,
  passives: 0.2,
  detractors: 0.3,
  satisfied: null,
});

// What GET /v1/surveys/s1/report answered for 10 answers: 5 promoters, 2 passives, 3 detractors.
const REPORT: SurveyReport = {
  survey_id: "s1",
  kind: "nps",
  from: null,
  to: null,
  by: "segment",
  interval: "week",
  total: score(20, -34.0327, 74.0327, 10),
  groups: [
    { key: "seg-vip", ...score(42.857143, -11.5, 97.2, 7) },
    { key: null, ...score(-33.333333, -100, 40.1, 3) },
  ],
  trend: [
    { period: "2026-11-02", ...score(0, -60.1, 60.1, 4) },
    { period: "2026-11-09", ...score(33.333333, -30.2, 96.9, 6) },
  ],
  last_answer_at: "2026-11-12T10:00:00Z",
  computed_at: "2026-12-05T12:00:00Z",
};

function renderAt(role: Role) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me(role));
  client.setQueryData(listSurveysQueryKey(), [SURVEY]);
  client.setQueryData(getSurveyReportQueryKey({ path: { survey_id: "s1" }, query: { by: "segment", interval: "week" } }), REPORT);
  client.setQueryData(listSegmentsQueryKey(), [{ id: "seg-vip", name: "VIP customers" }]);
  const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: ["/satisfaction"] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("satisfaction page", () => {
  it("shows the NPS, its interval and each segment's figures as the report gives them", async () => {
    renderAt("marketer");
    const nps = await screen.findByRole("region", { name: "NPS" }, { timeout: 10_000 });
    expect(nps).toHaveTextContent(formatFigure("nps", 20));
    expect(screen.getByRole("region", { name: "95% interval" })).toHaveTextContent(formatInterval(-34.0327, 74.0327, (v) => formatFigure("nps", v)));
    expect(screen.getByRole("region", { name: "Responses" })).toHaveTextContent(formatCount(10));
    const vip = screen.getByTestId("group-seg-vip");
    expect(within(vip).getByRole("rowheader")).toHaveTextContent("VIP customers");
    expect(vip).toHaveTextContent(formatFigure("nps", 42.857143));
    expect(screen.getByTestId("group-none")).toHaveTextContent(formatFigure("nps", -33.333333));
    expect(screen.getByRole("button", { name: "New survey" })).toBeInTheDocument();
  }, 20_000);

  it("gives analysts no way to create a survey", async () => {
    renderAt("analyst");
    await screen.findByRole("region", { name: "NPS" }, { timeout: 10_000 });
    expect(screen.queryByRole("button", { name: "New survey" })).not.toBeInTheDocument();
  }, 20_000);

  it("charts the API's figure per period with its interval", () => {
    expect(trendChartData(REPORT).map((p) => [p.Score, p.Low, p.High])).toEqual([
      [0, -60.1, 60.1],
      [33.333333, -30.2, 96.9],
    ]);
  });
});

describe("before and after", () => {
  const RESULT: BeforeAfter = {
    survey_id: "s1",
    kind: "csat",
    split: "2026-11-15T00:00:00Z",
    before: { ...score(40, 30.4, 49.6, 100), kind: "csat", satisfied: 0.4, promoters: null, passives: null, detractors: null },
    after: { ...score(55, 45.2, 64.8, 100), kind: "csat", satisfied: 0.55, promoters: null, passives: null, detractors: null },
    difference: 15,
    ci_low: 1.1618,
    ci_high: 28.8382,
    std_error: 7.0175,
    dof: 197.9,
    t_statistic: 2.1375,
    p_value: 0.0338,
    significant: true,
    computed_at: "2026-12-05T12:00:00Z",
  };

  it("shows the difference, its interval and the test as the API gives them", () => {
    renderWithProviders(<BeforeAfterView result={RESULT} />);
    expect(screen.getByRole("region", { name: "Before" })).toHaveTextContent(formatFigure("csat", 40));
    expect(screen.getByRole("region", { name: "After" })).toHaveTextContent(formatFigure("csat", 55));
    const difference = screen.getByRole("region", { name: "Difference" });
    expect(difference).toHaveTextContent(formatDifference("csat", 15));
    expect(difference).toHaveTextContent(formatInterval(1.1618, 28.8382, (v) => formatDifference("csat", v)));
    expect(screen.getByTestId("significance")).toHaveTextContent("Significant at 5%");
    expect(screen.getByText(/Welch/)).toHaveTextContent(`p = ${formatNumber(0.0338, 4)}`);
  });
});

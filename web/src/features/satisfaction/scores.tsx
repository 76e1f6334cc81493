// Satisfaction figures as the campaigns API gives them (GET /v1/surveys/{id}/report and …/before-after): CSAT as a
// percentage of 4–5 answers, NPS in points from −100 to 100, CES as a mean on 1–7, each with its 95% interval.
import { Badge, Group, Paper, SimpleGrid, Table, Text } from "@mantine/core";

import type { BeforeAfter, GroupScore, ScoreRead, SurveyReport } from "../../client/campaigns/types.gen";
import { LineChart } from "../../components/charts";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatDate, formatInterval, formatNumber, formatPercent } from "../../lib/format";

export type Kind = ScoreRead["kind"];

export const KIND_LABELS: Record<Kind, string> = {
  csat: "CSAT (1–5)",
  nps: "NPS (0–10)",
  ces: "CES (1–7)",
};

const FIGURE_NAMES: Record<Kind, string> = { csat: "CSAT", nps: "NPS", ces: "CES" };

/** One figure of a kind: CSAT "83.3%", NPS "+20" (points), CES "5.25". */
export function formatFigure(kind: Kind, value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (kind === "csat") return formatPercent(value / 100, 1);
  if (kind === "ces") return formatNumber(value, 2);
  return `${value > 0 ? "+" : ""}${formatNumber(value, 1)}`;
}

/** A difference in the figure's unit: CSAT in percentage points, NPS in points, CES in scale points. */
export function formatDifference(kind: Kind, value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const sign = value > 0 ? "+" : "";
  return kind === "csat" ? `${sign}${formatNumber(value, 1)} pp` : `${sign}${formatNumber(value, kind === "ces" ? 2 : 1)}`;
}

function shares(score: ScoreRead): string {
  if (score.kind === "nps") {
    return `${formatPercent(score.promoters)} promoters · ${formatPercent(score.passives)} passives · ${formatPercent(score.detractors)} detractors`;
  }
  return score.kind === "csat" ? `${formatPercent(score.satisfied)} answered 4 or 5` : "mean effort score";
}

export function ScoreSummary({ score }: { score: ScoreRead }) {
  const name = FIGURE_NAMES[score.kind];
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      <StatCard label={name} value={formatFigure(score.kind, score.value)} hint={shares(score)} />
      <StatCard
        label="95% interval"
        value={formatInterval(score.ci_low, score.ci_high, (v) => formatFigure(score.kind, v))}
        hint={score.kind === "ces" ? "Student's t on the mean" : "normal approximation"}
      />
      <StatCard label="Responses" value={formatCount(score.responses)} hint="one per person: their latest answer" />
    </SimpleGrid>
  );
}

const GROUP_NAMES: Record<SurveyReport["by"], string> = { segment: "Segment", campaign: "Campaign", product: "Product", none: "" };

function groupName(group: GroupScore, names: Record<string, string>): string {
  if (group.key === null) return "None";
  return names[group.key] ?? group.key;
}

export function GroupTable({ report, names = {} }: { report: SurveyReport; names?: Record<string, string> }) {
  const kind = report.kind;
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label={`${FIGURE_NAMES[kind]} by ${GROUP_NAMES[report.by].toLowerCase()}`} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{GROUP_NAMES[report.by]}</Table.Th>
            <Table.Th ta="right">{FIGURE_NAMES[kind]}</Table.Th>
            <Table.Th ta="right">95% interval</Table.Th>
            <Table.Th ta="right">Responses</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.groups.map((g) => (
            <Table.Tr key={g.key ?? "(none)"} data-testid={`group-${g.key ?? "none"}`}>
              <Table.Th scope="row">{groupName(g, names)}</Table.Th>
              <Table.Td ta="right" className="tabular">{formatFigure(kind, g.value)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatInterval(g.ci_low, g.ci_high, (v) => formatFigure(kind, v))}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.responses)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Chart rows: the figure per period and its interval, as the API computed them. */
export function trendChartData(report: SurveyReport) {
  return report.trend.map((p) => ({ period: formatDate(p.period), Score: p.value, Low: p.ci_low, High: p.ci_high, responses: p.responses }));
}

export function TrendChart({ report }: { report: SurveyReport }) {
  return (
    <LineChart
      h={240}
      data={trendChartData(report)}
      dataKey="period"
      series={[
        { name: "Score", color: "blue.6" },
        { name: "Low", color: "gray.5", strokeDasharray: "4 4" },
        { name: "High", color: "gray.5", strokeDasharray: "4 4" },
      ]}
      withLegend
      connectNulls
      valueFormatter={(v) => formatFigure(report.kind, v)}
      role="figure" aria-label={`${FIGURE_NAMES[report.kind]} per ${report.interval}`}
    />
  );
}

export function BeforeAfterView({ result }: { result: BeforeAfter }) {
  const kind = result.kind;
  const tested = result.p_value !== null;
  return (
    <Paper withBorder p="md" component="section" aria-label="Before and after">
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <StatCard label="Before" value={formatFigure(kind, result.before.value)} hint={`${formatCount(result.before.responses)} responses`} />
        <StatCard label="After" value={formatFigure(kind, result.after.value)} hint={`${formatCount(result.after.responses)} responses`} />
        <StatCard
          label="Difference"
          value={formatDifference(kind, result.difference)}
          hint={tested ? `95% interval ${formatInterval(result.ci_low, result.ci_high, (v) => formatDifference(kind, v))}` : "needs two answers on each side"}
        />
      </SimpleGrid>
      {tested ? (
        <Group mt="sm" gap="xs">
          <Badge color={result.significant ? "teal" : "gray"} variant="light" data-testid="significance">
            {result.significant ? "Significant at 5%" : "Not significant"}
          </Badge>
          <Text size="sm" c="dimmed">
            Welch's t-test: t = {formatNumber(result.t_statistic, 2)}, df = {formatNumber(result.dof, 1)}, p = {formatNumber(result.p_value, 4)}
          </Text>
        </Group>
      ) : null}
    </Paper>
  );
}

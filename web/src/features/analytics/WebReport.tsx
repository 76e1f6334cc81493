// The web report (GET /v1/reports/web): sessions, bounce rate, average duration, pages per session, conversion rate
// and revenue per group and per day, exactly as the API computes them.
import { Table } from "@mantine/core";

import type { WebMetrics, WebReportRead as WebReportAnswer } from "../../client/profiles";
import { LineChart } from "../../components/charts";
import { formatCount, formatCurrency, formatDate, formatDuration, formatNumber, formatPercent } from "../../lib/format";

// The generated types of the profiles API: the table and chart show exactly its fields.
export type { WebMetrics, WebReportRead as WebReportAnswer } from "../../client/profiles";

function Cells({ m }: { m: WebMetrics }) {
  return (
    <>
      <Table.Td ta="right" className="tabular">{formatCount(m.sessions)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(m.bounce_rate)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatDuration(m.avg_session_seconds)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatNumber(m.pages_per_session, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(m.conversion_rate, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatCurrency(m.revenue)}</Table.Td>
    </>
  );
}

export function WebReportTable({ report }: { report: WebReportAnswer }) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table aria-label="Web report" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{report.by === "none" ? "" : report.by.replace("_", " ")}</Table.Th>
            <Table.Th ta="right">Sessions</Table.Th>
            <Table.Th ta="right">Bounce rate</Table.Th>
            <Table.Th ta="right">Avg. session</Table.Th>
            <Table.Th ta="right">Pages / session</Table.Th>
            <Table.Th ta="right">Conversion rate</Table.Th>
            <Table.Th ta="right">Revenue</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.groups.map((g) => (
            <Table.Tr key={g.key} data-testid={`group-${g.key}`}>
              <Table.Th scope="row">{g.key === "all" ? "All sessions" : g.key}</Table.Th>
              <Cells m={g} />
            </Table.Tr>
          ))}
        </Table.Tbody>
        {report.by !== "none" ? (
          <Table.Tfoot>
            <Table.Tr data-testid="group-total">
              <Table.Th scope="row">Total</Table.Th>
              <Cells m={report.total} />
            </Table.Tr>
          </Table.Tfoot>
        ) : null}
      </Table>
    </Table.ScrollContainer>
  );
}

/** Chart rows: one per day, the API's figures as they are (rates as percentages only on the axis labels). */
export function dailyChartData(report: WebReportAnswer) {
  return report.daily.map((d) => ({ day: formatDate(d.day), Sessions: d.sessions, "Converted sessions": d.converted_sessions }));
}

export function WebTrendChart({ report }: { report: WebReportAnswer }) {
  return (
    <LineChart
      h={240}
      data={dailyChartData(report)}
      dataKey="day"
      series={[
        { name: "Sessions", color: "blue.6" },
        { name: "Converted sessions", color: "teal.6" },
      ]}
      withLegend
      valueFormatter={(v) => formatCount(v)}
      role="figure" aria-label="Sessions per day"
    />
  );
}

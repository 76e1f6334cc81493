// The feedback report (GET /v1/feedback/stats): response times, the sentiment distribution and its daily trend,
// and the terms negative feedback uses most per product (GET /v1/feedback/terms), as the API computes them.
import { Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";

import { BarChart, LineChart } from "../../components/charts";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatDate, formatNumber, formatPercent } from "../../lib/format";
import type { FeedbackSummary, NegativeTermsRead } from "../../client/profiles/types.gen";

const hours = (h: number | null) => (h === null ? "–" : `${formatNumber(h, 1)} h`);

export function ResponseFigures({ summary }: { summary: FeedbackSummary }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
      <StatCard label="Feedback items" value={formatCount(summary.items)} hint={`${formatCount(summary.answered)} answered (${formatPercent(summary.response_rate)})`} />
      <StatCard label="Mean response time" value={hours(summary.mean_response_hours)} />
      <StatCard label="Median response time" value={hours(summary.median_response_hours)} />
      <StatCard label="Answered within 1 h" value={formatPercent(summary.answered_within_1h)} />
      <StatCard label="Answered within 24 h" value={formatPercent(summary.answered_within_24h)} />
      <StatCard label="Mean sentiment" value={formatNumber(summary.mean_compound, 2)} hint={`compound, −1 to 1, of ${formatCount(summary.scored)} scored`} />
    </SimpleGrid>
  );
}

/** Chart rows: each label's count as the API gives it. */
export function sentimentData(summary: FeedbackSummary) {
  return (["positive", "neutral", "negative"] as const).map((label) => ({ label, Items: summary.sentiment[label].count }));
}

export function trendData(summary: FeedbackSummary) {
  return summary.daily.map((d) => ({ day: formatDate(d.day), Items: d.count, "Mean sentiment": d.mean_compound }));
}

export function SentimentCharts({ summary }: { summary: FeedbackSummary }) {
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Paper withBorder p="md" component="section" aria-label="Sentiment distribution">
        <Title order={3} size="h5" mb="sm">Sentiment</Title>
        <BarChart h={200} data={sentimentData(summary)} dataKey="label" series={[{ name: "Items", color: "blue.6" }]} valueFormatter={(v) => formatCount(v)} role="figure" aria-label="Items per sentiment" />
        <Group gap="xs" mt="xs">
          {(["positive", "neutral", "negative"] as const).map((label) => (
            <Text key={label} size="xs" c="dimmed" data-testid={`share-${label}`}>
              {label} {formatPercent(summary.sentiment[label].share)}
            </Text>
          ))}
        </Group>
      </Paper>
      <Paper withBorder p="md" component="section" aria-label="Daily trend">
        <Title order={3} size="h5" mb="sm">Daily trend</Title>
        {summary.daily.length ? (
          <LineChart
            h={200}
            data={trendData(summary)}
            dataKey="day"
            series={[{ name: "Items", color: "blue.6" }, { name: "Mean sentiment", color: "grape.6", yAxisId: "right" }]}
            withRightYAxis
            withLegend
            role="figure" aria-label="Feedback items and mean sentiment per day"
          />
        ) : (
          <Text size="sm" c="dimmed">No feedback in this period.</Text>
        )}
      </Paper>
    </SimpleGrid>
  );
}

export function NegativeTermsTable({ terms }: { terms: NegativeTermsRead }) {
  if (terms.products.length === 0) return <Text size="sm" c="dimmed">No negative feedback in this period.</Text>;
  return (
    <Table aria-label="Frequent terms in negative feedback" verticalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Product</Table.Th>
          <Table.Th ta="right">Negative items</Table.Th>
          <Table.Th>Most frequent terms</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {terms.products.map((p) => (
          <Table.Tr key={p.product_id ?? "none"} data-testid={`terms-${p.product_id ?? "none"}`}>
            <Table.Th scope="row">{p.product_id ?? "(no product)"}</Table.Th>
            <Table.Td ta="right" className="tabular">{formatCount(p.negative_items)}</Table.Td>
            <Table.Td>
              <Stack gap={4}>
                <Group gap={4}>
                  {p.terms.map((t) => (
                    <Badge key={t.term} variant="light" color="red" tt="none">
                      {t.term} · {formatCount(t.count)}
                    </Badge>
                  ))}
                </Group>
              </Stack>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

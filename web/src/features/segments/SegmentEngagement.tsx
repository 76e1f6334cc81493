// The engagement score in a segment's report: mean, median and 90th percentile over scored members, decayed to the
// time of the report, and how the scores spread (chart, with the same counts in a table for screen readers).
import { Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";

import type { EngagementDistribution } from "../../api/shapes";
import { BarChart } from "../../components/charts";
import { Freshness } from "../../components/Freshness";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatNumber } from "../../lib/format";

export function binLabel(bin: { low: number; high: number }, last: boolean): string {
  return last ? `${formatNumber(bin.low, 1)}+` : `${formatNumber(bin.low, 1)}–${formatNumber(bin.high, 1)}`;
}

export function SegmentEngagement({ engagement }: { engagement: EngagementDistribution | undefined }) {
  if (!engagement || engagement.scored_members === 0) {
    return (
      <Text size="sm" c="dimmed" mt="sm">
        Engagement: no member has scored activity yet.
      </Text>
    );
  }
  const rows = engagement.bins.map((b, i) => ({ band: binLabel(b, i === engagement.bins.length - 1), members: b.count }));
  return (
    <Paper withBorder p="md" mt="md" component="section" aria-labelledby="engagement-title">
      <Stack gap="sm">
        <Title order={3} size="h5" id="engagement-title">
          Engagement score
        </Title>
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <StatCard label="Mean engagement" value={formatNumber(engagement.mean, 1)} hint={`${formatCount(engagement.scored_members)} members scored`} />
          <StatCard label="Median engagement" value={formatNumber(engagement.median, 1)} hint={`middle half ${formatNumber(engagement.p25, 1)}–${formatNumber(engagement.p75, 1)}`} />
          <StatCard label="90th percentile" value={formatNumber(engagement.p90, 1)} />
          <StatCard label="Highest" value={formatNumber(engagement.max, 1)} />
        </SimpleGrid>
        <BarChart h={200} data={rows} dataKey="band" series={[{ name: "members", label: "Members", color: "teal.6" }]} valueFormatter={(v) => formatCount(v)} yAxisProps={{ allowDecimals: false }} aria-hidden barChartProps={{ accessibilityLayer: false }} />
        <Table fz="xs" aria-label="Members by engagement score">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Score</Table.Th>
              <Table.Th ta="right">Members</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.band}>
                <Table.Td>{r.band}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(r.members)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Freshness asOf={engagement.as_of} label="scores decayed to" />
      </Stack>
    </Paper>
  );
}

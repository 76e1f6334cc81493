// Us and each competitor side by side (GET /v1/social/competitors): posting, content mix, engagement rates, follower
// growth and share of voice, as the API computes them.
import { Stack, Table, Text } from "@mantine/core";

import { ScrollTable } from "../../components/ScrollTable";
import { BarChart } from "../../components/charts";
import { formatCount, formatNumber, formatPercent, formatSignedPercent } from "../../lib/format";
import type { CompetitorsReport } from "./shapes";

/** Chart rows: each brand's share of voice as the API gives it (a ratio), in percent for the axis. */
export function shareOfVoiceData(report: CompetitorsReport) {
  return report.brands.map((b) => ({ brand: b.brand, "Share of voice": b.share_of_voice === null ? 0 : b.share_of_voice * 100 }));
}

function mix(m: Record<string, number | null>): string {
  const parts = Object.entries(m).map(([kind, share]) => `${kind} ${formatPercent(share, 0)}`);
  return parts.length ? parts.join(", ") : "–";
}

export function CompetitorsView({ report }: { report: CompetitorsReport }) {
  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        Our handles ({report.us.from}): {report.us.handles.join(", ") || "none"} · mentions tracked {formatCount(report.mentions.tracked)}, of other brands {formatCount(report.mentions.untracked)}
      </Text>
      <BarChart
        h={200}
        data={shareOfVoiceData(report)}
        dataKey="brand"
        series={[{ name: "Share of voice", color: "grape.6" }]}
        valueFormatter={(v) => `${formatNumber(v, 1)} %`}
        role="figure" aria-label="Share of voice per brand"
      />
      <ScrollTable minWidth={1100} label="Competitors">
        <Table aria-label="Competitors" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Brand</Table.Th>
              <Table.Th ta="right">Posts</Table.Th>
              <Table.Th ta="right">Posts / week</Table.Th>
              <Table.Th>Content mix</Table.Th>
              <Table.Th ta="right">Reach</Table.Th>
              <Table.Th ta="right">Engagements</Table.Th>
              <Table.Th ta="right">Eng. rate (reach)</Table.Th>
              <Table.Th ta="right">Eng. rate (followers)</Table.Th>
              <Table.Th ta="right">Follower growth</Table.Th>
              <Table.Th ta="right">Mentions</Table.Th>
              <Table.Th ta="right">Share of voice</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {report.brands.map((b) => (
              <Table.Tr key={b.brand} data-testid={`brand-${b.brand}`} fw={b.is_us ? 600 : undefined}>
                <Table.Th scope="row">{b.is_us ? "Us" : `@${b.brand}`}</Table.Th>
                <Table.Td ta="right" className="tabular">{formatCount(b.posts_published)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatNumber(b.posts_per_week, 1)}</Table.Td>
                <Table.Td>{mix(b.content_mix)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(b.reach)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(b.engagements)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatPercent(b.engagement_rate_by_reach, 2)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatPercent(b.engagement_rate_by_followers, 2)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatSignedPercent(b.followers.growth_rate, 1)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(b.mentions)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatPercent(b.share_of_voice, 1)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
    </Stack>
  );
}

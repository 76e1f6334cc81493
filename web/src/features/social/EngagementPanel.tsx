// Our posts' engagement (GET /v1/social/engagement) grouped by post, content type, platform, campaign or segment:
// the figures per group and in total, the definitions the API uses, the daily trend and the top content.
import { Group, List, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";

import { ScrollTable } from "../../components/ScrollTable";
import { LineChart } from "../../components/charts";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatDate, formatPercent } from "../../lib/format";
import type { DailyEngagement, EngagementGroup, EngagementReport, SegmentEngagement, SocialTotals, TopPost } from "./shapes";

export const GROUPINGS = [
  { value: "platform", label: "Platform" },
  { value: "content_type", label: "Content type" },
  { value: "campaign", label: "Campaign" },
  { value: "post", label: "Post" },
  { value: "segment", label: "Segment" },
] as const;

export type Grouping = (typeof GROUPINGS)[number]["value"];

const isSegment = (r: EngagementReport) => r.by === "segment";

function groupName(g: { key: string | null }, names: Record<string, string>): string {
  if (g.key === null || g.key === "") return "(none)";
  return names[g.key] ?? g.key;
}

export function EngagementTotals({ total }: { total: SocialTotals }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
      <StatCard label="Posts" value={formatCount(total.posts)} />
      <StatCard label="Reach" value={formatCount(total.reach)} />
      <StatCard label="Impressions" value={formatCount(total.impressions)} />
      <StatCard label="Engagements" value={formatCount(total.engagements)} />
      <StatCard label="Engagement rate (reach)" value={formatPercent(total.engagement_rate_by_reach, 2)} />
      <StatCard label="CTR" value={formatPercent(total.ctr, 2)} />
    </SimpleGrid>
  );
}

function PostCells({ g }: { g: SocialTotals }) {
  return (
    <>
      <Table.Td ta="right" className="tabular">{formatCount(g.posts)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatCount(g.reach)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatCount(g.impressions)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatCount(g.engagements)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatCount(g.clicks)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.engagement_rate_by_reach, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.engagement_rate_by_impressions, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.engagement_rate_by_followers, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.ctr, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.amplification_rate, 2)}</Table.Td>
      <Table.Td ta="right" className="tabular">{formatPercent(g.virality_rate, 2)}</Table.Td>
    </>
  );
}

function PostGroupsTable({ report }: { report: EngagementReport }) {
  const label = GROUPINGS.find((g) => g.value === report.by)?.label ?? report.by;
  const heads = ["Posts", "Reach", "Impressions", "Engagements", "Clicks", "Eng. rate (reach)", "Eng. rate (impr.)", "Eng. rate (followers)", "CTR", "Amplification", "Virality"];
  return (
    <ScrollTable minWidth={1100} label="Engagement by group">
      <Table aria-label="Engagement by group" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{label}</Table.Th>
            {heads.map((h) => <Table.Th key={h} ta="right">{h}</Table.Th>)}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(report.groups as EngagementGroup[]).map((g) => (
            <Table.Tr key={String(g.key)} data-testid={`engagement-${g.key ?? "none"}`}>
              <Table.Th scope="row">{groupName(g, {})}</Table.Th>
              <PostCells g={g} />
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

function SegmentGroupsTable({ report, segmentNames }: { report: EngagementReport; segmentNames: Record<string, string> }) {
  const rows = report.groups as SegmentEngagement[];
  const heads = ["People", "Engaged people", "Engagement rate", "Likes", "Comments", "Shares", "Ad clicks"];
  return (
    <ScrollTable minWidth={760} label="Engagement by segment">
      <Table aria-label="Engagement by segment" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Segment</Table.Th>
            {heads.map((h) => <Table.Th key={h} ta="right">{h}</Table.Th>)}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((g) => (
            <Table.Tr key={String(g.key)} data-testid={`engagement-${g.key ?? "none"}`}>
              <Table.Th scope="row">{groupName(g, segmentNames)}</Table.Th>
              <Table.Td ta="right" className="tabular">{formatCount(g.people)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.engaged_people)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(g.engagement_rate, 2)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.likes)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.comments)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.shares)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(g.ad_clicks)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

/** Chart rows: the API's daily figures as they are. */
export function dailyEngagementData(daily: DailyEngagement[]) {
  return daily.map((d) => ({ day: formatDate(d.date), Reach: d.reach, Engagements: d.engagements, Clicks: d.clicks }));
}

function DailyChart({ daily }: { daily: DailyEngagement[] }) {
  if (daily.length === 0) return <Text c="dimmed" size="sm">No daily metrics in this period.</Text>;
  return (
    <LineChart
      h={240}
      data={dailyEngagementData(daily)}
      dataKey="day"
      series={[
        { name: "Reach", color: "blue.6" },
        { name: "Engagements", color: "teal.6" },
        { name: "Clicks", color: "orange.6" },
      ]}
      withLegend
      valueFormatter={(v) => formatCount(v)}
      role="figure" aria-label="Reach, engagements and clicks per day"
    />
  );
}

function TopContent({ posts }: { posts: TopPost[] }) {
  if (posts.length === 0) return <Text c="dimmed" size="sm">No post reached anyone in this period.</Text>;
  return (
    <ScrollTable minWidth={700} label="Top content">
      <Table aria-label="Top content" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Post</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Text</Table.Th>
            <Table.Th ta="right">Reach</Table.Th>
            <Table.Th ta="right">Engagements</Table.Th>
            <Table.Th ta="right">Eng. rate (reach)</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {posts.map((p) => (
            <Table.Tr key={`${p.platform}:${p.post_id}`} data-testid={`top-${p.platform}:${p.post_id}`}>
              <Table.Th scope="row">{p.platform} · {p.post_id}</Table.Th>
              <Table.Td>{p.content_type}</Table.Td>
              <Table.Td maw={320}><Text size="sm" lineClamp={2}>{p.text || "–"}</Text></Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(p.reach)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(p.engagements)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(p.engagement_rate_by_reach, 2)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

function Definitions({ definitions }: { definitions: Record<string, string> }) {
  return (
    <List size="xs" spacing={2} aria-label="How the figures are defined">
      {Object.entries(definitions).map(([name, formula]) => (
        <List.Item key={name}>
          <Text span size="xs" fw={600}>{name.replaceAll("_", " ")}</Text>
          <Text span size="xs" c="dimmed"> = {formula}</Text>
        </List.Item>
      ))}
    </List>
  );
}

export function EngagementView({ report, segmentNames }: { report: EngagementReport; segmentNames: Record<string, string> }) {
  return (
    <Stack gap="md">
      {!isSegment(report) && report.total ? <EngagementTotals total={report.total as SocialTotals} /> : null}
      <Paper withBorder p="md" component="section" aria-label="Engagement by group">
        {isSegment(report) ? <SegmentGroupsTable report={report} segmentNames={segmentNames} /> : <PostGroupsTable report={report} />}
      </Paper>
      <Paper withBorder p="md" component="section" aria-label="Daily trend">
        <Title order={3} size="h5" mb="sm">Daily trend</Title>
        <DailyChart daily={report.daily} />
      </Paper>
      <Paper withBorder p="md" component="section" aria-label="Top content">
        <Title order={3} size="h5" mb="sm">Top content by engagement rate by reach</Title>
        <TopContent posts={report.top_content} />
      </Paper>
      <Group>
        <Paper withBorder p="md" component="section" aria-label="Definitions">
          <Title order={3} size="h6" mb="xs">Definitions</Title>
          <Definitions definitions={report.engagement} />
        </Paper>
      </Group>
    </Stack>
  );
}

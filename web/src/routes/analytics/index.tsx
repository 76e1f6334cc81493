// Analytics: the web report for a date range, grouped by a UTM field and filtered by segment, with a daily trend;
// the funnel builder and conversion paths by channel; and each goal-carrying segment's performance in campaigns.
import { Group, Paper, Select, Stack, Tabs, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { getSegmentsPerformanceOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import { getWebReportOptions } from "../../client/profiles/@tanstack/react-query.gen";
import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { ConversionPaths } from "../../features/analytics/ConversionPaths";
import { FunnelBuilder } from "../../features/analytics/FunnelBuilder";
import { SegmentPerformanceList } from "../../features/analytics/SegmentPerformance";
import { dayWindow, daysAgo, isoDay } from "../../lib/days";
import { WebReportTable, WebTrendChart } from "../../features/analytics/WebReport";

export const Route = createFileRoute("/_console/analytics/")({
  component: AnalyticsPage,
});

type By = "none" | "utm_source" | "utm_medium" | "utm_campaign";

function WebTab({ range, segment }: { range: { from: string; to: string } | null; segment: string | null }) {
  const [by, setBy] = useState<By>("utm_source");
  const report = useQuery({
    ...getWebReportOptions({ query: { from: range?.from ?? "", to: range?.to ?? "", by, segment_id: segment } }),
    enabled: range !== null,
    placeholderData: keepPreviousData,
  });
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <Select
          label="Group by"
          data={[
            { value: "none", label: "Nothing" },
            { value: "utm_source", label: "UTM source" },
            { value: "utm_medium", label: "UTM medium" },
            { value: "utm_campaign", label: "UTM campaign" },
          ]}
          value={by}
          onChange={(v) => setBy((v) ?? "none")}
          allowDeselect={false}
          w={180}
        />
        <Freshness fetchedAt={report.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={report} loadingLabel="Loading the web report" isEmpty={(d) => d.groups.length === 0} empty={<Empty title="No sessions in this range" />}>
        {(r) => (
          <Stack gap="md">
            <Paper withBorder p="md" component="section" aria-label="Sessions per day">
              <WebTrendChart report={r} />
            </Paper>
            <WebReportTable report={r} />
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}

function PerformanceTab() {
  const performance = useQuery(getSegmentsPerformanceOptions());
  return (
    <Stack gap="md">
      <Group justify="flex-end">
        <Freshness fetchedAt={performance.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={performance} loadingLabel="Loading segment performance" isEmpty={(d) => d.segments.length === 0} empty={<Empty title="No segment has a goal" description="Give a segment a goal (a conversion, click or open rate, or revenue per recipient) to measure it here." />}>
        {(d) => <SegmentPerformanceList rows={d.segments} />}
      </QueryState>
    </Stack>
  );
}

function AnalyticsPage() {
  const [from, setFrom] = useState(() => daysAgo(30));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [segment, setSegment] = useState<string | null>(null);
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  const valid = Boolean(from && to) && from <= to;
  const range = valid ? dayWindow(from, to) : null;
  return (
    <>
      <PageHeader title="Analytics" description="Web sessions, funnels and conversion paths, and how segments perform against their goals." />
      <Stack gap="md">
        <Group align="flex-end">
          <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} error={from && to && from > to ? "After the end" : undefined} />
          <TextInput type="date" label="To (inclusive)" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          <Select
            label="Segment"
            placeholder="Everyone"
            clearable
            searchable
            data={(segments.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
            value={segment}
            onChange={setSegment}
            w={220}
          />
        </Group>
        <Tabs defaultValue="web" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="web">Web</Tabs.Tab>
            <Tabs.Tab value="funnel">Funnel</Tabs.Tab>
            <Tabs.Tab value="paths">Conversion paths</Tabs.Tab>
            <Tabs.Tab value="performance">Segment performance</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="web" pt="md"><WebTab range={range} segment={segment} /></Tabs.Panel>
          <Tabs.Panel value="funnel" pt="md"><FunnelBuilder window={range ?? {}} segmentId={segment} /></Tabs.Panel>
          <Tabs.Panel value="paths" pt="md"><ConversionPaths window={range ?? {}} /></Tabs.Panel>
          <Tabs.Panel value="performance" pt="md"><PerformanceTab /></Tabs.Panel>
        </Tabs>
      </Stack>
    </>
  );
}

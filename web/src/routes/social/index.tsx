// Social: our posts' engagement by post, content type, platform, campaign or segment; competitors side by side;
// influencers with their reports; user content to review; and CSV imports of posts and metrics (marketers only).
import { Group, Select, Stack, Tabs, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { usePermissions } from "../../auth/session";
import { getCompetitorsOptions, getEngagementOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { CompetitorsView } from "../../features/social/CompetitorsPanel";
import { ContentQueue } from "../../features/social/ContentQueue";
import { EngagementView, GROUPINGS, type Grouping } from "../../features/social/EngagementPanel";
import { ImportPanel } from "../../features/social/ImportPanel";
import { InfluencersPanel } from "../../features/social/InfluencersPanel";
import type { Period } from "../../features/social/period";
import { daysAgo, isoDay } from "../../lib/days";
import type { CompetitorsReport, EngagementReport } from "../../features/social/shapes";

export const Route = createFileRoute("/_console/social/")({
  component: SocialPage,
});

function Engagement({ period }: { period: Period }) {
  const [by, setBy] = useState<Grouping>("platform");
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000, enabled: by === "segment" });
  const report = useQuery({
    ...getEngagementOptions({ query: { by, ...period } }),
    placeholderData: keepPreviousData,
    select: (d) => d as unknown as EngagementReport,
  });
  const names = Object.fromEntries((segments.data ?? []).map((s) => [s.id, s.name]));
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <Select label="Group by" data={[...GROUPINGS]} value={by} onChange={(v) => setBy((v) ?? "platform")} allowDeselect={false} w={200} />
        <Freshness fetchedAt={report.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={report} loadingLabel="Loading engagement" isEmpty={(r) => r.groups.length === 0 && r.daily.length === 0} empty={<Empty title="No metrics in this period" description="Import posts and their daily metrics to see engagement." />}>
        {(r) => <EngagementView report={r} segmentNames={names} />}
      </QueryState>
    </Stack>
  );
}

function Competitors({ period }: { period: Period }) {
  const [brand, setBrand] = useState("");
  const report = useQuery({
    ...getCompetitorsOptions({ query: { ...period, brand: brand.trim() || null } }),
    placeholderData: keepPreviousData,
    select: (d) => d as unknown as CompetitorsReport,
  });
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <TextInput label="Our handles" description="Comma-separated; our posts' authors when empty" value={brand} onChange={(e) => setBrand(e.currentTarget.value)} w={320} />
        <Freshness fetchedAt={report.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={report} loadingLabel="Loading competitors" isEmpty={(r) => r.brands.length === 0} empty={<Empty title="No brands to compare" description="Import competitors' posts (competitor = true) to compare." />}>
        {(r) => <CompetitorsView report={r} />}
      </QueryState>
    </Stack>
  );
}

function SocialPage() {
  const { canWrite } = usePermissions();
  const [from, setFrom] = useState(() => daysAgo(27));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const valid = !from || !to || from <= to;
  const period: Period = valid ? { from: from || null, to: to || null } : {};
  return (
    <>
      <PageHeader title="Social" description="Engagement of our posts, competitors, influencers, user content and imports." />
      <Stack gap="md">
        <Group align="flex-end">
          <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} error={valid ? undefined : "After the end"} />
          <TextInput type="date" label="To (inclusive)" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Group>
        <Tabs defaultValue="engagement" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="engagement">Engagement</Tabs.Tab>
            <Tabs.Tab value="competitors">Competitors</Tabs.Tab>
            <Tabs.Tab value="influencers">Influencers</Tabs.Tab>
            <Tabs.Tab value="content">User content</Tabs.Tab>
            {canWrite ? <Tabs.Tab value="import">Import</Tabs.Tab> : null}
          </Tabs.List>
          <Tabs.Panel value="engagement" pt="md"><Engagement period={period} /></Tabs.Panel>
          <Tabs.Panel value="competitors" pt="md"><Competitors period={period} /></Tabs.Panel>
          <Tabs.Panel value="influencers" pt="md"><InfluencersPanel period={period} /></Tabs.Panel>
          <Tabs.Panel value="content" pt="md"><ContentQueue /></Tabs.Panel>
          {canWrite ? <Tabs.Panel value="import" pt="md"><ImportPanel /></Tabs.Panel> : null}
        </Tabs>
      </Stack>
    </>
  );
}

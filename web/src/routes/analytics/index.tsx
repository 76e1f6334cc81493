// Analytics: the web report for a date range, grouped by a UTM field and filtered by segment, with a daily trend.
import { Group, Paper, Select, Stack, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { getWebReportOptions } from "../../client/profiles/@tanstack/react-query.gen";
import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { WebReportTable, WebTrendChart, type WebReportAnswer } from "../../features/analytics/WebReport";

export const Route = createFileRoute("/_console/analytics/")({
  component: AnalyticsPage,
});

type By = "none" | "utm_source" | "utm_medium" | "utm_campaign";

const day = (d: Date) => d.toISOString().slice(0, 10);

function AnalyticsPage() {
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 30 * 86_400_000)));
  const [to, setTo] = useState(() => day(new Date()));
  const [by, setBy] = useState<By>("utm_source");
  const [segment, setSegment] = useState<string | null>(null);
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  const valid = from < to || from === to;
  const end = new Date(`${to}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  const report = useQuery({
    ...getWebReportOptions({ query: { from: `${from}T00:00:00Z`, to: end.toISOString(), by, segment_id: segment } }),
    enabled: valid,
    placeholderData: keepPreviousData,
    select: (d) => d as unknown as WebReportAnswer,
  });
  return (
    <>
      <PageHeader title="Analytics" description="Web sessions: bounce rate, time on site, pages, conversion and revenue." meta={<Freshness fetchedAt={report.dataUpdatedAt || undefined} />} />
      <Stack gap="md">
        <Group align="flex-end">
          <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} error={valid ? undefined : "After the end"} />
          <TextInput type="date" label="To (inclusive)" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
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
    </>
  );
}

// Retention: are customers coming back? Cohorts by first-order month (heat map and curves), the repeat-purchase rate,
// and churn (P(alive) of the latest CLV fit below a threshold) over everyone, one segment, and per segment.
import { Group, NumberInput, Paper, Select, Stack, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { getRetentionOptions, listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { ChurnBySegment } from "../../features/retention/Cohorts";
import { ReplicaLag, RetentionView } from "../../features/retention/RetentionView";

export const Route = createFileRoute("/_console/retention/")({
  component: RetentionPage,
});

const MAX_SEGMENTS = 12;

function RetentionPage() {
  const [segment, setSegment] = useState<string | null>(null);
  const [threshold, setThreshold] = useState<number>(0.3);
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  const retention = useQuery({
    ...getRetentionOptions({ query: { segment_id: segment ?? undefined, churn_threshold: threshold } }),
    placeholderData: keepPreviousData,
  });
  const ready = (segments.data ?? []).filter((s) => s.status === "ready").slice(0, MAX_SEGMENTS);
  return (
    <>
      <PageHeader
        title="Retention"
        description="Do customers come back after their first order, and who is slipping away?"
        meta={retention.data ? <ReplicaLag freshness={retention.data.freshness} /> : null}
      />
      <Stack gap="lg">
        <Group gap="md" align="flex-end" wrap="wrap">
          <Select
            label="Customers"
            placeholder="Everyone"
            clearable
            searchable
            data={(segments.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
            value={segment}
            onChange={setSegment}
            w={260}
          />
          <NumberInput
            label="Churned below P(alive)"
            min={1}
            max={99}
            suffix=" %"
            allowDecimal={false}
            value={Math.round(threshold * 100)}
            onChange={(v) => typeof v === "number" && v >= 1 && v <= 99 && setThreshold(v / 100)}
            w={190}
          />
        </Group>
        <QueryState
          query={retention}
          loadingLabel="Building cohorts"
          isEmpty={(r) => r.cohorts.length === 0}
          empty={<Empty title="No orders yet" description="Cohorts appear once customers have ordered (tracked or imported orders)." />}
        >
          {(r) => <RetentionView retention={r} />}
        </QueryState>
        <Paper withBorder p="md" component="section" aria-labelledby="churn-title">
          <Title order={2} size="h5" id="churn-title" mb="xs">
            Churn by segment
          </Title>
          <QueryState query={segments} isEmpty={() => ready.length === 0} empty={<Empty title="No ready segments" />}>
            {() => <ChurnBySegment segments={ready} threshold={threshold} />}
          </QueryState>
          {(segments.data ?? []).filter((s) => s.status === "ready").length > MAX_SEGMENTS ? (
            <Text size="xs" c="dimmed" mt="xs">
              The first {MAX_SEGMENTS} ready segments; choose another above to see its cohorts and churn.
            </Text>
          ) : null}
        </Paper>
      </Stack>
    </>
  );
}

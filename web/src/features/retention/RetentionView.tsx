// The Retention page's body: headline figures, the cohort heat map and the retention curves of one answer.
import { Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";

import type { Freshness as ReplicaFreshness, RetentionRead } from "../../client/segmentation/types.gen";
import { Freshness } from "../../components/Freshness";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatDate, formatPercent } from "../../lib/format";
import { CohortHeatmap, RetentionCurves } from "./Cohorts";

export function ReplicaLag({ freshness }: { freshness: ReplicaFreshness }) {
  return (
    <Text size="xs" c="dimmed" component="span">
      <Freshness asOf={freshness.as_of} label="profiles as of" />
      {freshness.lag ? ` · ${formatCount(freshness.lag)} changes still on their way` : ""}
    </Text>
  );
}

export function RetentionView({ retention }: { retention: RetentionRead }) {
  return (
    <Stack gap="lg">
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <StatCard label="Customers" value={formatCount(retention.customers)} hint={`with an order by ${formatDate(retention.as_of)}`} />
        <StatCard label="Repeat purchase rate" value={formatPercent(retention.repeat_purchase_rate)} hint="ordered on two days or more" />
        <StatCard label="Churn" value={formatPercent(retention.churn.share)} hint={`P(alive) below ${formatPercent(retention.churn.threshold, 0)}`} />
        <StatCard label="Churned customers" value={formatCount(retention.churn.churned)} hint={`of ${formatCount(retention.churn.scored)} scored by the CLV model`} />
      </SimpleGrid>
      <Paper withBorder p="md" component="section" aria-labelledby="heatmap-title">
        <Title order={2} size="h5" id="heatmap-title" mb="xs">
          Share of each cohort ordering again, by month after the first order
        </Title>
        <CohortHeatmap cohorts={retention.cohorts} />
      </Paper>
      <Paper withBorder p="md" component="section" aria-labelledby="curves-title">
        <Title order={2} size="h5" id="curves-title" mb="xs">
          Retention curves
        </Title>
        <RetentionCurves cohorts={retention.cohorts} />
      </Paper>
    </Stack>
  );
}

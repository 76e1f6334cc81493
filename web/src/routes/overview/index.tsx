// Overview: how big the customer base is, what happened today, whether the pipeline keeps up, and who is entering
// and leaving segments right now.
import { Alert, Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { getOverviewOptions } from "../../client/console/@tanstack/react-query.gen";
import type { PipelineRead } from "../../client/console/types.gen";
import { Freshness, RelativeTime } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { StatCard } from "../../components/StatCard";
import { SegmentChangesFeed } from "../../features/segments/SegmentChangesFeed";
import { formatCount } from "../../lib/format";

export const Route = createFileRoute("/_console/")({
  component: OverviewPage,
});

const SERVICE_ORDER = ["tracking", "profiles", "segmentation", "campaigns"];

function OverviewPage() {
  const overview = useQuery({ ...getOverviewOptions(), refetchInterval: 15_000 });
  return (
    <>
      <PageHeader
        title="Overview"
        description="Your customers, today's activity and the health of the pipeline."
        meta={<Freshness fetchedAt={overview.dataUpdatedAt || undefined} />}
      />
      <QueryState query={overview} loadingLabel="Loading the overview">
        {(data) => (
          <Stack gap="lg">
            <SimpleGrid cols={{ base: 2, md: 4 }}>
              <StatCard label="Profiles" value={formatCount(data.profiles)} />
              <StatCard label="Events today" value={formatCount(data.events_today)} />
              <StatCard label="Segments" value={formatCount(data.segments)} />
              <StatCard label="Campaigns" value={formatCount(data.campaigns)} />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
              <Paper withBorder p="md" component="section" aria-labelledby="pipeline-title">
                <Title order={2} size="h4" id="pipeline-title" mb="sm">
                  Pipeline health
                </Title>
                <Stack gap="md">
                  {SERVICE_ORDER.filter((s) => s in data.pipeline).map((service) => (
                    <ServicePipeline key={service} service={service} pipeline={data.pipeline[service] ?? null} />
                  ))}
                </Stack>
              </Paper>
              <Paper withBorder p="md" component="section" aria-labelledby="feed-title">
                <Title order={2} size="h4" id="feed-title" mb="sm">
                  Segment entries and exits, live
                </Title>
                <SegmentChangesFeed />
              </Paper>
            </SimpleGrid>
          </Stack>
        )}
      </QueryState>
    </>
  );
}

function ServicePipeline({ service, pipeline }: { service: string; pipeline: PipelineRead | null }) {
  if (!pipeline) {
    return (
      <Alert color="red" title={service} variant="light">
        Did not answer.
      </Alert>
    );
  }
  const topics = pipeline.consumers.flatMap((c) => Object.entries(c.topics).map(([topic, t]) => ({ topic, ...t })));
  const lost = pipeline.consumers.flatMap((c) => c.lost_records);
  const down = Object.entries(pipeline.tasks).filter(([, t]) => t.state !== "running");
  const healthy = pipeline.pending === 0 && down.length === 0;
  return (
    <Stack gap={6} component="section" aria-label={`${service} pipeline`}>
      <Group gap="xs" justify="space-between">
        <Text fw={600} tt="capitalize">
          {service}
        </Text>
        <Badge color={healthy ? "green" : down.length ? "red" : "yellow"} variant="dot">
          {healthy ? "Up to date" : down.length ? `${down.length} loop${down.length > 1 ? "s" : ""} restarting` : `${formatCount(pipeline.pending)} waiting`}
        </Badge>
      </Group>
      {topics.length ? (
        <Table.ScrollContainer minWidth={420}>
          <Table fz="xs" verticalSpacing={4} aria-label={`${service}: consumed topics`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Topic</Table.Th>
                <Table.Th ta="right">Lag</Table.Th>
                <Table.Th>Newest applied</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {topics.map((t) => (
                <Table.Tr key={t.topic}>
                  <Table.Td>{t.topic}</Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {formatCount(t.lag)}
                  </Table.Td>
                  <Table.Td>
                    <RelativeTime value={t.newest_applied_at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      <Text size="xs" c="dimmed">
        Outbox: {formatCount(pipeline.outbox_pending)} waiting to be published · checked <RelativeTime value={pipeline.checked_at} />
      </Text>
      {down.map(([name, task]) => (
        <Text key={name} size="xs" c="red.7">
          {name}: {task.state} after {formatCount(task.restarts)} restarts{task.last_error ? ` (${task.last_error})` : ""}
        </Text>
      ))}
      {lost.length ? (
        <Text size="xs" c="orange.8">
          The broker lost {formatCount(lost.reduce((n, l) => n + Math.max(0, l.committed - l.broker_has), 0))} records this
          service had applied (it came back empty).
        </Text>
      ) : null}
    </Stack>
  );
}

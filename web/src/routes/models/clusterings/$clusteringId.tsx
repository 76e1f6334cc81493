// One clustering: its fit as it runs, the clusters it found (size, description, suggested name), where their centres
// sit (a heat map of standardised centroids), publishing them as segments, re-running, and drift between runs.
import { Alert, Badge, Button, Card, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconRefresh, IconUpload } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { errorMessage } from "../../../api/errors";
import type { ClusteringRun, DriftHistory } from "../../../api/shapes";
import {
  getClusteringOptions,
  getClusteringQueryKey,
  getDriftOptions,
  listSegmentsQueryKey,
  publishClusteringMutation,
  rerunClusteringMutation,
} from "../../../client/segmentation/@tanstack/react-query.gen";
import type { ClusteringRead } from "../../../client/segmentation/types.gen";
import { WriteAccess } from "../../../components/Access";
import { MatrixChart } from "../../../components/charts";
import { RelativeTime } from "../../../components/Freshness";
import { AnchorLink } from "../../../components/links";
import { PageHeader } from "../../../components/PageHeader";
import { Empty, QueryState } from "../../../components/QueryState";
import { StatCard } from "../../../components/StatCard";
import { ClusteringStatus } from "../../../features/models/ClusteringStatus";
import { JobProgress, isRunning } from "../../../features/models/JobProgress";
import { formatCount, formatNumber, formatPercent } from "../../../lib/format";

export const Route = createFileRoute("/_console/models/clusterings/$clusteringId")({
  component: ClusteringPage,
});

function ClusteringPage() {
  const { clusteringId } = Route.useParams();
  const clustering = useQuery({
    ...getClusteringOptions({ path: { clustering_id: clusteringId } }),
    refetchInterval: (q) => (q.state.data && isRunning(q.state.data.status) ? 1_000 : 30_000),
  });
  return (
    <QueryState query={clustering} loadingLabel="Loading the clustering">
      {(c) => <ClusteringView clustering={c} />}
    </QueryState>
  );
}

function ClusteringView({ clustering }: { clustering: ClusteringRead }) {
  const queryClient = useQueryClient();
  const key = getClusteringQueryKey({ path: { clustering_id: clustering.id } });
  const run = clustering.latest_run as ClusteringRun | null;
  const running = isRunning(clustering.status);
  const publish = useMutation({
    ...publishClusteringMutation(),
    onSuccess: async (updated) => {
      queryClient.setQueryData(key, updated);
      await queryClient.invalidateQueries({ queryKey: listSegmentsQueryKey() });
      notifications.show({ color: "green", message: "Each cluster is now a segment." });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not published", message: errorMessage(error) }),
  });
  const rerun = useMutation({
    ...rerunClusteringMutation(),
    onSuccess: (updated) => queryClient.setQueryData(key, updated),
    onError: (error) => notifications.show({ color: "red", title: "Not started", message: errorMessage(error) }),
  });
  const path = { path: { clustering_id: clustering.id } };
  return (
    <>
      <PageHeader
        title={clustering.name}
        meta={
          <Group gap="xs">
            <ClusteringStatus clustering={clustering} />
            <Text size="xs" c="dimmed">
              {clustering.method === "gmm" ? "Gaussian mixture" : "k-means"} · k {clustering.k === "auto" ? "chosen by silhouette" : clustering.k}
              {clustering.rerun_every_hours ? ` · re-runs every ${formatNumber(clustering.rerun_every_hours, 1)} h` : ""}
              {clustering.next_run_at ? " · next " : ""}
            </Text>
            {clustering.next_run_at ? <RelativeTime value={clustering.next_run_at} /> : null}
          </Group>
        }
        actions={
          <WriteAccess>
            <Button
              leftSection={<IconUpload size={16} aria-hidden />}
              disabled={!run || running}
              loading={publish.isPending}
              onClick={() => publish.mutate(path)}
            >
              {clustering.published ? "Publish again" : "Publish as segments"}
            </Button>
            <Button variant="default" leftSection={<IconRefresh size={16} aria-hidden />} disabled={running} loading={rerun.isPending} onClick={() => rerun.mutate(path)}>
              Re-run now
            </Button>
          </WriteAccess>
        }
      />
      <Stack gap="lg">
        {running ? <JobProgress label="Fitting" progress={clustering.progress} stage={clustering.stage} status={clustering.status} /> : null}
        {clustering.status === "error" && clustering.last_error ? (
          <Alert color="red" title="The last fit failed">
            {clustering.last_error}
          </Alert>
        ) : null}
        {run ? <RunView clustering={clustering} run={run} /> : running ? null : <Empty title="No finished fit yet" />}
        <Drift clusteringId={clustering.id} />
      </Stack>
    </>
  );
}

function RunView({ clustering, run }: { clustering: ClusteringRead; run: ClusteringRun }) {
  const features = clustering.features;
  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <StatCard label="Customers clustered" value={formatCount(run.profiles)} />
        <StatCard label="Clusters" value={formatCount(run.k)} />
        <StatCard label="Silhouette" value={formatNumber(run.silhouette, 3)} hint="−1 … 1, higher separates better" />
        <StatCard label="Fitted" value={<RelativeTime value={run.finished_at} />} />
      </SimpleGrid>
      <section aria-labelledby="clusters-title">
        <Title order={2} size="h4" id="clusters-title" mb="sm">
          Clusters
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {run.clusters.map((cluster) => (
            <Card withBorder key={cluster.index} component="article" aria-label={cluster.suggested_name}>
              <Group justify="space-between" align="flex-start" wrap="nowrap">
                <Text fw={700} style={{ minWidth: 0 }}>
                  {cluster.suggested_name}
                </Text>
                <Badge variant="light" className="tabular" style={{ flexShrink: 0 }}>
                  {formatPercent(cluster.share)}
                </Badge>
              </Group>
              <Text size="sm" c="dimmed" className="tabular">
                {formatCount(cluster.size)} customers
              </Text>
              <Text size="sm" mt="xs">
                {cluster.description || "Close to the average on every feature."}
              </Text>
              {cluster.segment_id ? (
                <AnchorLink to="/segments/$segmentId" params={{ segmentId: cluster.segment_id }} size="sm" mt="xs">
                  Open its segment
                </AnchorLink>
              ) : null}
            </Card>
          ))}
        </SimpleGrid>
      </section>
      <Centroids run={run} features={features} />
    </>
  );
}

const HEAT_COLORS = ["red.7", "red.3", "gray.1", "blue.3", "blue.7"];

function Centroids({ run, features }: { run: ClusteringRun; features: string[] }) {
  const short = (text: string) => (text.length > 24 ? `${text.slice(0, 23)}…` : text);
  const rowName = (c: ClusteringRun["clusters"][number]) => short(`${c.index + 1}. ${c.suggested_name}`);
  const data = run.clusters.flatMap((c) => features.map((f) => ({ x: short(f.replaceAll("_", " ")), y: rowName(c), value: c.z_scores[f] ?? null })));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="centroids-title">
      <Title order={2} size="h4" id="centroids-title">
        Where each cluster sits
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Standard deviations from the average customer: blue above, red below. The table gives each centre in its own units.
      </Text>
      <div style={{ overflowX: "auto" }} aria-hidden>
        <MatrixChart
          data={data}
          xLabels={features.map((f) => short(f.replaceAll("_", " ")))}
          yLabels={run.clusters.map(rowName)}
          domain={[-2, 2]}
          colors={HEAT_COLORS}
          cellSize={44}
          gap={2}
          withXLabels
          withYLabels
          yLabelsWidth={190}
          xLabelsHeight={130}
          withTooltip
          withLegend
          legendLabels={["below average", "above average"]}
          getTooltipLabel={(cell) => `${cell.y}, ${cell.x}: ${formatNumber(cell.value, 2)}σ`}
        />
      </div>
      <Table.ScrollContainer minWidth={560}>
        <Table fz="xs" mt="sm" aria-label="Cluster centres">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Cluster</Table.Th>
              {features.map((f) => (
                <Table.Th key={f} ta="right">
                  {f.replaceAll("_", " ")}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {run.clusters.map((c) => (
              <Table.Tr key={c.index}>
                <Table.Th fw={500}>{c.suggested_name}</Table.Th>
                {features.map((f) => (
                  <Table.Td key={f} ta="right" className="tabular">
                    {formatNumber(c.centroid[f], 2)}{" "}
                    <Text span size="xs" c="dimmed">
                      ({formatNumber(c.z_scores[f], 1)}σ)
                    </Text>
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

const PSI_COLORS: Record<string, string> = { stable: "green", "moderate shift": "yellow", "major shift": "red" };

function Drift({ clusteringId }: { clusteringId: string }) {
  const drift = useQuery(getDriftOptions({ path: { clustering_id: clusteringId } }));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="drift-title">
      <Title order={2} size="h4" id="drift-title" mb="sm">
        Drift between runs
      </Title>
      <QueryState query={drift}>
        {({ reports }) => {
          const [latest, ...older] = reports;
          if (!latest) return <Text size="sm" c="dimmed">Drift is measured from the second run on.</Text>;
          return (
            <Stack gap="md">
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <StatCard label="Adjusted Rand index" value={formatNumber(latest.adjusted_rand, 3)} hint={`on ${formatCount(latest.common_profiles)} customers in both runs; 1 = same grouping`} />
                <StatCard
                  label="Size shift (PSI)"
                  value={
                    <Group gap="xs">
                      {formatNumber(latest.psi, 3)}
                      <Badge color={PSI_COLORS[latest.psi_label] ?? "gray"} variant="light">
                        {latest.psi_label}
                      </Badge>
                    </Group>
                  }
                />
                <StatCard label="Run" value={<RelativeTime value={latest.finished_at} />} hint={`${formatCount(latest.new_clusters.length)} new, ${formatCount(latest.retired_clusters.length)} retired clusters`} />
              </SimpleGrid>
              <Transitions report={latest} />
              {older.length ? (
                <Table fz="xs" aria-label="Earlier runs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Run</Table.Th>
                      <Table.Th ta="right">ARI</Table.Th>
                      <Table.Th ta="right">PSI</Table.Th>
                      <Table.Th>Shift</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {older.map((r) => (
                      <Table.Tr key={r.run_id}>
                        <Table.Td>
                          <RelativeTime value={r.finished_at} />
                        </Table.Td>
                        <Table.Td ta="right">{formatNumber(r.adjusted_rand, 3)}</Table.Td>
                        <Table.Td ta="right">{formatNumber(r.psi, 3)}</Table.Td>
                        <Table.Td>{r.psi_label}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              ) : null}
            </Stack>
          );
        }}
      </QueryState>
    </Paper>
  );
}

function Transitions({ report }: { report: DriftHistory["reports"][number] }) {
  const { from, to, counts } = report.transitions;
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table fz="xs" withTableBorder withColumnBorders aria-label="Where customers of each earlier cluster went">
        <Table.Caption>Rows: clusters of the run before; columns: clusters now; cells: customers who moved.</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>From \ to</Table.Th>
            {to.map((name, j) => (
              <Table.Th key={j} ta="right">
                {name}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {from.map((name, i) => (
            <Table.Tr key={i}>
              <Table.Th fw={500}>{name}</Table.Th>
              {to.map((_, j) => {
                const n = counts[i]?.[j] ?? 0;
                return (
                  <Table.Td key={j} ta="right" className="tabular" fw={n ? 600 : 400} c={n ? undefined : "dimmed"}>
                    {formatCount(n)}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

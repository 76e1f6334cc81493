// Models: machine-learned segments (clusterings), RFM and predicted lifetime value.
import { Badge, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import type { ClusteringRun } from "../../api/shapes";
import { listClusteringsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { WriteAccess } from "../../components/Access";
import { Freshness, RelativeTime } from "../../components/Freshness";
import { AnchorLink, ButtonLink } from "../../components/links";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { ClusteringStatus } from "../../features/models/ClusteringStatus";
import { formatCount, formatNumber } from "../../lib/format";

export const Route = createFileRoute("/_console/models/")({
  component: ModelsPage,
});

function ModelsPage() {
  const clusterings = useQuery({
    ...listClusteringsOptions(),
    refetchInterval: (q) => (q.state.data?.some((c) => c.status === "queued" || c.status === "running") ? 2_000 : 30_000),
  });
  return (
    <>
      <PageHeader title="Models" description="Segments found by machine learning, RFM scores and predicted customer lifetime value." />
      <Stack gap="lg">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Paper withBorder p="md" component="section">
            <Title order={2} size="h4">
              <AnchorLink to="/models/rfm">RFM</AnchorLink>
            </Title>
            <Text size="sm" c="dimmed">
              Every customer scored 1–5 on recency, frequency and money spent, named Champions … Lost.
            </Text>
          </Paper>
          <Paper withBorder p="md" component="section">
            <Title order={2} size="h4">
              <AnchorLink to="/models/clv">Customer lifetime value</AnchorLink>
            </Title>
            <Text size="sm" c="dimmed">
              BG/NBD and Gamma-Gamma: the chance each customer is still active and what they will spend.
            </Text>
          </Paper>
        </SimpleGrid>
        <Paper withBorder p="md" component="section" aria-labelledby="clusterings-title">
          <Stack gap="sm">
            <SimpleGrid cols={2}>
              <Title order={2} size="h4" id="clusterings-title">
                Clusterings
              </Title>
              <WriteAccess>
                <ButtonLink to="/models/clusterings/new" leftSection={<IconPlus size={16} aria-hidden />} size="xs" style={{ justifySelf: "end" }}>
                  New clustering
                </ButtonLink>
              </WriteAccess>
            </SimpleGrid>
            <Freshness fetchedAt={clusterings.dataUpdatedAt || undefined} />
            <QueryState
              query={clusterings}
              isEmpty={(d) => d.length === 0}
              empty={<Empty title="No clusterings yet" description="A clustering groups customers by the features you choose, with k chosen for you or by you." />}
            >
              {(rows) => (
                <Table.ScrollContainer minWidth={720}>
                  <Table verticalSpacing="sm" highlightOnHover aria-label="Clusterings">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Name</Table.Th>
                        <Table.Th>Status</Table.Th>
                        <Table.Th ta="right">Clusters</Table.Th>
                        <Table.Th ta="right">Silhouette</Table.Th>
                        <Table.Th ta="right">Profiles</Table.Th>
                        <Table.Th>Last fit</Table.Th>
                        <Table.Th>Segments</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {rows.map((c) => {
                        const run = c.latest_run as ClusteringRun | null;
                        return (
                          <Table.Tr key={c.id}>
                            <Table.Td>
                              <AnchorLink to="/models/clusterings/$clusteringId" params={{ clusteringId: c.id }} fw={600}>
                                {c.name}
                              </AnchorLink>
                              <Text size="xs" c="dimmed" lineClamp={1}>
                                {c.features.join(", ")}
                              </Text>
                            </Table.Td>
                            <Table.Td>
                              <ClusteringStatus clustering={c} />
                            </Table.Td>
                            <Table.Td ta="right" className="tabular">
                              {run ? formatCount(run.k) : "–"}
                            </Table.Td>
                            <Table.Td ta="right" className="tabular">
                              {run ? formatNumber(run.silhouette, 3) : "–"}
                            </Table.Td>
                            <Table.Td ta="right" className="tabular">
                              {run ? formatCount(run.profiles) : "–"}
                            </Table.Td>
                            <Table.Td>
                              <RelativeTime value={run?.finished_at} />
                            </Table.Td>
                            <Table.Td>
                              {c.published ? (
                                <Badge variant="light" color="grape">
                                  Published
                                </Badge>
                              ) : (
                                <Text size="xs" c="dimmed">
                                  not published
                                </Text>
                              )}
                            </Table.Td>
                          </Table.Tr>
                        );
                      })}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </QueryState>
          </Stack>
        </Paper>
      </Stack>
    </>
  );
}

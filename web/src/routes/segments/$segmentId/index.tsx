// One segment: how big it is and how it performs, how its size moved, its definition (editable by marketers), who
// is in it and why, and who entered or left lately.
import { Alert, Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { IconPencil, IconTrash } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { useState } from "react";

import { errorMessage } from "../../../api/errors";
import { listProfileSegments } from "../../../client/segmentation/sdk.gen";
import {
  deleteSegmentMutation,
  getHistoryOptions,
  getSegmentOptions,
  getSegmentQueryKey,
  getSegmentReportOptions,
  listMembersInfiniteOptions,
  listMembersOptions,
  listSegmentsQueryKey,
} from "../../../client/segmentation/@tanstack/react-query.gen";
import { updateSegment } from "../../../client/segmentation/sdk.gen";
import type { ProfileRead } from "../../../client/profiles/types.gen";
import type { SegmentRead } from "../../../client/segmentation/types.gen";
import { WriteAccess } from "../../../components/Access";
import { AreaChart } from "../../../components/charts";
import { Freshness, RelativeTime } from "../../../components/Freshness";
import { AnchorLink } from "../../../components/links";
import { PageHeader } from "../../../components/PageHeader";
import { Empty, ErrorState, QueryState } from "../../../components/QueryState";
import { StatCard } from "../../../components/StatCard";
import { FindProfile } from "../../../features/customers/FindProfile";
import { profileLabel, useProfilesById } from "../../../features/customers/profiles";
import { describeRule } from "../../../features/segments/describe";
import type { Rule } from "../../../features/segments/rules";
import { SegmentChangesFeed } from "../../../features/segments/SegmentChangesFeed";
import { SegmentEngagement } from "../../../features/segments/SegmentEngagement";
import { SegmentForm, type SegmentDraft } from "../../../features/segments/SegmentForm";
import { KindBadge, StatusBadge } from "../../../features/segments/status";
import { useSegmentNames } from "../../../features/segments/suggestions";
import { formatCompact, formatCount, formatCurrency, formatDate, formatDateTime, formatNumber, formatPercent } from "../../../lib/format";

export const Route = createFileRoute("/_console/segments/$segmentId/")({
  component: SegmentPage,
});

function SegmentPage() {
  const { segmentId } = Route.useParams();
  const segment = useQuery({
    ...getSegmentOptions({ path: { segment_id: segmentId } }),
    refetchInterval: (q) => (q.state.data?.status === "building" ? 2_000 : 30_000),
  });
  return (
    <QueryState query={segment} loadingLabel="Loading the segment" errorTitle="Could not load this segment">
      {(s) => <SegmentView segment={s} />}
    </QueryState>
  );
}

function SegmentView({ segment }: { segment: SegmentRead }) {
  const [editing, setEditing] = useState(false);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    ...deleteSegmentMutation(),
    onSuccess: async () => {
      notifications.show({ color: "green", message: `“${segment.name}” was deleted.` });
      await queryClient.invalidateQueries({ queryKey: listSegmentsQueryKey() });
      await navigate({ to: "/segments" });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not deleted", message: errorMessage(error) }),
  });
  const confirmDelete = () =>
    modals.openConfirmModal({
      title: `Delete “${segment.name}”?`,
      children: <Text size="sm">Its {formatCount(segment.size)} members leave it, and campaigns aimed at it lose their audience.</Text>,
      labels: { confirm: "Delete segment", cancel: "Keep it" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate({ path: { segment_id: segment.id } }),
    });
  const save = async (draft: SegmentDraft) => {
    const { data } = await updateSegment({
      path: { segment_id: segment.id },
      body: { ...draft, definition: draft.definition as Record<string, unknown> },
      throwOnError: true,
    });
    queryClient.setQueryData(getSegmentQueryKey({ path: { segment_id: segment.id } }), data);
    await queryClient.invalidateQueries({ queryKey: listSegmentsQueryKey() });
    notifications.show({ color: "green", message: "Saved: the segment is being rebuilt." });
    setEditing(false);
  };
  return (
    <>
      <PageHeader
        title={segment.name}
        description={segment.description || undefined}
        meta={
          <Group gap="xs">
            <KindBadge kind={segment.kind} />
            <StatusBadge segment={segment} />
            <Text size="xs" c="dimmed">
              computed <RelativeTime value={segment.last_computed_at} />
            </Text>
          </Group>
        }
        actions={
          <WriteAccess>
            {segment.kind === "rules" && !editing ? (
              <Button variant="default" leftSection={<IconPencil size={16} aria-hidden />} onClick={() => setEditing(true)}>
                Edit
              </Button>
            ) : null}
            <Button variant="light" color="red" leftSection={<IconTrash size={16} aria-hidden />} onClick={confirmDelete} loading={remove.isPending}>
              Delete
            </Button>
          </WriteAccess>
        }
      />
      {segment.status === "error" && segment.last_error ? (
        <Alert color="red" mb="md" title="The last computation failed">
          {segment.last_error}
        </Alert>
      ) : null}
      {editing ? (
        <SegmentForm
          initial={{
            name: segment.name,
            description: segment.description,
            definition: segment.definition as Rule,
            goal: (segment.goal as SegmentDraft["goal"]) ?? null,
          }}
          segmentId={segment.id}
          submitLabel="Save changes"
          onSubmit={save}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <Stack gap="lg">
          <Report segment={segment} />
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
            <SizeHistory segment={segment} />
            <Definition segment={segment} />
          </SimpleGrid>
          <Members segment={segment} />
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
            <Paper withBorder p="md" component="section" aria-labelledby="live-title">
              <Title order={2} size="h4" id="live-title" mb="sm">
                Entries and exits, live
              </Title>
              <SegmentChangesFeed segmentId={segment.id} />
            </Paper>
            <RecentEntries segment={segment} />
          </SimpleGrid>
        </Stack>
      )}
    </>
  );
}

function goalText(goal: Record<string, unknown> | null): string | null {
  if (!goal || typeof goal.metric !== "string") return null;
  const rate = goal.metric !== "revenue_per_recipient";
  const show = (v: unknown) => (typeof v !== "number" ? null : rate ? formatPercent(v, 2) : formatCurrency(v));
  const [min, max] = [show(goal.min), show(goal.max)];
  const metric = goal.metric.replaceAll("_", " ");
  if (min && max) return `${metric} between ${min} and ${max}`;
  return min ? `${metric} of at least ${min}` : max ? `${metric} of at most ${max}` : null;
}

function Report({ segment }: { segment: SegmentRead }) {
  const report = useQuery({ ...getSegmentReportOptions({ path: { segment_id: segment.id } }), staleTime: 30_000 });
  const goal = goalText(segment.goal);
  return (
    <section aria-labelledby="report-title">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4" id="report-title">
          Report
        </Title>
        <Freshness asOf={segment.last_computed_at} label="members as of" fetchedAt={report.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={report} loadingLabel="Loading the report">
        {(r) => {
          return (
            <>
              <SimpleGrid cols={{ base: 2, sm: 3, md: 4, xl: 7 }}>
                <StatCard label="Members" value={formatCount(r.size)} hint={`${formatCount(r.customers_with_orders)} with an order`} />
                <StatCard label="Revenue per member" value={formatCurrency(r.revenue_per_customer)} hint={`${formatCurrency(r.revenue)} in all`} />
                <StatCard label="Average order value" value={formatCurrency(r.average_order_value)} hint={`${formatCount(r.orders)} orders`} />
                <StatCard label="Average CLV" value={formatCurrency(r.average_clv)} hint={`${formatCount(r.clv_scored_members)} scored`} />
                <StatCard label="Conversion rate" value={formatPercent(r.conversion_rate)} hint="members with an order" />
                <StatCard label="Sentiment" value={formatNumber(r.average_sentiment, 2)} hint="−1 negative … +1 positive" />
                <StatCard label="E-mail consent" value={formatPercent(r.email_consent_share)} hint="may be e-mailed" />
              </SimpleGrid>
              <SegmentEngagement engagement={r.engagement} />
            </>
          );
        }}
      </QueryState>
      {goal ? (
        <Text size="sm" mt="sm">
          Goal when targeted: <strong>{goal}</strong>
        </Text>
      ) : null}
    </section>
  );
}

function SizeHistory({ segment }: { segment: SegmentRead }) {
  const history = useQuery(getHistoryOptions({ path: { segment_id: segment.id } }));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="history-title">
      <Title order={2} size="h4" id="history-title" mb="sm">
        Size after each computation
      </Title>
      <QueryState query={history} isEmpty={(h) => h.length === 0} empty={<Empty title="Not computed yet" />}>
        {(points) => (
          <>
            <AreaChart
              h={220}
              data={points.map((p) => ({ at: formatDate(p.at), size: p.size }))}
              dataKey="at"
              series={[{ name: "size", label: "Members", color: "blue.6" }]}
              curveType="linear"
              valueFormatter={(v) => formatCount(v)}
              yAxisProps={{ tickFormatter: (v: number) => formatCompact(v) }}
              withDots={points.length < 40}
              aria-hidden
              areaChartProps={{ accessibilityLayer: false }}
            />
            <Table fz="xs" mt="xs" aria-label="Size history">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Computed</Table.Th>
                  <Table.Th ta="right">Members</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {points.slice(-5).reverse().map((p) => (
                  <Table.Tr key={p.at}>
                    <Table.Td>{formatDateTime(p.at)}</Table.Td>
                    <Table.Td ta="right" className="tabular">
                      {formatCount(p.size)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </>
        )}
      </QueryState>
    </Paper>
  );
}

function Definition({ segment }: { segment: SegmentRead }) {
  const names = useSegmentNames();
  const lines = describeRule(segment.definition, names);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="definition-title">
      <Title order={2} size="h4" id="definition-title" mb="sm">
        Definition
      </Title>
      {segment.kind === "cluster" ? (
        <Text size="sm" c="dimmed" mb="xs">
          Filled by a clustering: its members are the profiles of one cluster.
        </Text>
      ) : null}
      <Stack gap={4}>
        {lines.map((line, i) => (
          <Text key={i} size="sm" pl={line.depth * 20} fw={line.text.endsWith(":") ? 600 : 400}>
            {line.text}
          </Text>
        ))}
      </Stack>
    </Paper>
  );
}

const PAGE = 50;

function Members({ segment }: { segment: SegmentRead }) {
  const members = useInfiniteQuery({
    ...listMembersInfiniteOptions({ path: { segment_id: segment.id }, query: { limit: PAGE } }),
    // The first page: no cursor. (The generated options read an object page param as parameters to merge.)
    initialPageParam: { path: { segment_id: segment.id } },
    getNextPageParam: (last) => last.next_cursor,
  });
  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  const profiles = useProfilesById(rows.map((r) => r.profile_id));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="members-title">
      <Group justify="space-between" mb="sm" align="flex-start" wrap="wrap">
        <Title order={2} size="h4" id="members-title">
          Members
        </Title>
        <Text size="sm" c="dimmed">
          {formatCount(segment.size)} in all
        </Text>
      </Group>
      <MemberSearch segment={segment} />
      {members.isPending ? (
        <Text size="sm" c="dimmed">
          Loading members…
        </Text>
      ) : members.isError ? (
        <ErrorState error={members.error} onRetry={() => void members.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="Nobody is in this segment right now" />
      ) : (
        <>
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="xs" highlightOnHover aria-label="Members">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Customer</Table.Th>
                  <Table.Th>In since</Table.Th>
                  <Table.Th>Why</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((m) => (
                  <Table.Tr key={m.profile_id}>
                    <Table.Td>
                      <AnchorLink to="/customers/$profileId" params={{ profileId: m.profile_id }}>
                        {profileLabel(profiles.data?.get(m.profile_id), m.profile_id)}
                      </AnchorLink>
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime value={m.entered_at} />
                    </Table.Td>
                    <Table.Td>
                      <AnchorLink
                        to="/segments/$segmentId/explain"
                        params={{ segmentId: segment.id }}
                        search={{ profile: m.profile_id }}
                        size="sm"
                        aria-label={`Why is ${profileLabel(profiles.data?.get(m.profile_id), m.profile_id)} in this segment?`}
                      >
                        Why?
                      </AnchorLink>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group mt="sm" gap="sm">
            <Text size="xs" c="dimmed">
              Showing {formatCount(rows.length)} of {formatCount(segment.size)}
            </Text>
            {members.hasNextPage ? (
              <Button size="xs" variant="light" onClick={() => void members.fetchNextPage()} loading={members.isFetchingNextPage}>
                Load more members
              </Button>
            ) : null}
          </Group>
        </>
      )}
    </Paper>
  );
}

/** Is this customer in the segment? (The members list has no search; one lookup answers it for one person.) */
function MemberSearch({ segment }: { segment: SegmentRead }) {
  const [found, setFound] = useState<{ profile: ProfileRead; member: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const check = async (profile: ProfileRead) => {
    setError(null);
    try {
      const { data } = await listProfileSegments({ path: { profile_id: profile.id }, throwOnError: true });
      setFound({ profile, member: data.current.some((m) => m.segment_id === segment.id) });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Stack gap="xs" mb="md">
      <FindProfile onFound={(p) => void check(p)} submitLabel="Check" />
      {error ? <ErrorState error={error} /> : null}
      {found ? (
        <Alert color={found.member ? "green" : "gray"} variant="light" role="status">
          <Group gap="xs">
            <AnchorLink to="/customers/$profileId" params={{ profileId: found.profile.id }}>
              {profileLabel(found.profile)}
            </AnchorLink>
            <Text size="sm">{found.member ? "is a member." : "is not a member."}</Text>
            <AnchorLink to="/segments/$segmentId/explain" params={{ segmentId: segment.id }} search={{ profile: found.profile.id }} size="sm">
              {found.member ? "Why?" : "Why not?"}
            </AnchorLink>
          </Group>
        </Alert>
      ) : null}
    </Stack>
  );
}

const ALL_AT_ONCE = 1000;

/** The newest entries, exact while the whole membership fits in one page of the members API. */
function RecentEntries({ segment }: { segment: SegmentRead }) {
  const small = segment.size <= ALL_AT_ONCE;
  const members = useQuery({
    ...listMembersOptions({ path: { segment_id: segment.id }, query: { limit: ALL_AT_ONCE } }),
    enabled: small,
  });
  const newest = [...(members.data?.items ?? [])].sort((a, b) => b.entered_at.localeCompare(a.entered_at)).slice(0, 10);
  const profiles = useProfilesById(newest.map((m) => m.profile_id));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="recent-title">
      <Title order={2} size="h4" id="recent-title" mb="sm">
        Newest members
      </Title>
      {!small ? (
        <Text size="sm" c="dimmed">
          With more than {formatCount(ALL_AT_ONCE)} members, the newest entries need segmentation&apos;s change feed, which
          is not available yet; the live feed beside this shows changes as they happen.
        </Text>
      ) : (
        <QueryState query={members} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No members" />}>
          {() => (
            <Table fz="sm" aria-label="Newest members">
              <Table.Tbody>
                {newest.map((m) => (
                  <Table.Tr key={m.profile_id}>
                    <Table.Td>
                      <AnchorLink to="/customers/$profileId" params={{ profileId: m.profile_id }}>
                        {profileLabel(profiles.data?.get(m.profile_id), m.profile_id)}
                      </AnchorLink>
                    </Table.Td>
                    <Table.Td>
                      entered <RelativeTime value={m.entered_at} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
      )}
    </Paper>
  );
}

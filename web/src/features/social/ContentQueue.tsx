// User-generated content waiting for review (GET /v1/social/content), approved or rejected by marketers, and a
// contest's participation (GET /v1/social/contests/{id}) when one is chosen from the contests seen (GET /v1/social/contests).
import { Anchor, Button, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { errorMessage } from "../../api/errors";
import {
  getContestOptions,
  listContentOptions,
  listContestsOptions,
  reviewContentMutation,
} from "../../client/campaigns/@tanstack/react-query.gen";
import type { ContentRead } from "../../client/campaigns/types.gen";
import { WriteAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { Empty, QueryState } from "../../components/QueryState";
import { ScrollTable } from "../../components/ScrollTable";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatPercent } from "../../lib/format";
import type { SocialTotals } from "./shapes";

type Status = "pending" | "approved" | "rejected";

/** GET /v1/social/contests/{id} (`social.contest_report`). */
export interface ContestReport {
  contest_id: string;
  entries: number;
  participants: number;
  people_reached: number;
  people_reached_from: string;
  participation_rate: number | null;
  user_content: { pending: number; approved: number; rejected: number; total: number };
  posts: SocialTotals;
}

export function ContestView({ report }: { report: ContestReport }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      <StatCard label="Participants" value={formatCount(report.participants)} hint={`${formatCount(report.entries)} entries`} />
      <StatCard label="People reached" value={formatCount(report.people_reached)} hint={`from ${report.people_reached_from}`} />
      <StatCard label="Participation rate" value={formatPercent(report.participation_rate, 2)} />
      <StatCard label="User content" value={formatCount(report.user_content.total)} hint={`${formatCount(report.user_content.pending)} pending · ${formatCount(report.user_content.approved)} approved · ${formatCount(report.user_content.rejected)} rejected`} />
    </SimpleGrid>
  );
}

function Contest({ id }: { id: string }) {
  const report = useQuery({ ...getContestOptions({ path: { contest_id: id } }), select: (d) => d as unknown as ContestReport });
  return (
    <Paper withBorder p="md" component="section" aria-label={`Contest ${id}`}>
      <QueryState query={report} loadingLabel="Loading the contest">
        {(r) => <ContestView report={r} />}
      </QueryState>
    </Paper>
  );
}

function ReviewButtons({ item }: { item: ContentRead }) {
  const queryClient = useQueryClient();
  const review = useMutation({
    ...reviewContentMutation(),
    // Every page of the queue and the contests' counts change with a review.
    onSuccess: () => void queryClient.invalidateQueries({ predicate: (q) => /"(listContent|listContests|getContest)"/.test(JSON.stringify(q.queryKey)) }),
  });
  const decide = (status: "approved" | "rejected") => review.mutate({ path: { content_id: item.id }, body: { status } });
  return (
    <Group gap="xs" wrap="nowrap">
      <Button size="xs" color="teal" variant="light" disabled={item.status === "approved"} loading={review.isPending && review.variables.body.status === "approved"} onClick={() => decide("approved")} aria-label={`Approve content from ${item.person}`}>
        Approve
      </Button>
      <Button size="xs" color="red" variant="light" disabled={item.status === "rejected"} loading={review.isPending && review.variables.body.status === "rejected"} onClick={() => decide("rejected")} aria-label={`Reject content from ${item.person}`}>
        Reject
      </Button>
      {review.isError ? <Text c="red" size="xs" role="alert">{errorMessage(review.error)}</Text> : null}
    </Group>
  );
}

export function ContentTable({ items }: { items: ContentRead[] }) {
  return (
    <ScrollTable minWidth={720} label="User content">
      <Table aria-label="User content" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>From</Table.Th>
            <Table.Th>Content</Table.Th>
            <Table.Th>Contest</Table.Th>
            <Table.Th>Submitted</Table.Th>
            <Table.Th>Status</Table.Th>
            <WriteAccess><Table.Th>Review</Table.Th></WriteAccess>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((c) => (
            <Table.Tr key={c.id} data-testid={`content-${c.id}`}>
              <Table.Th scope="row">{c.person}</Table.Th>
              <Table.Td>{c.url ? <Anchor href={c.url} target="_blank" rel="noreferrer">{c.type ?? "link"}</Anchor> : (c.type ?? "–")}</Table.Td>
              <Table.Td>{c.contest_id ?? "–"}</Table.Td>
              <Table.Td><RelativeTime value={c.submitted_at} /></Table.Td>
              <Table.Td>{c.status}</Table.Td>
              <WriteAccess><Table.Td><ReviewButtons item={c} /></Table.Td></WriteAccess>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

export function ContentQueue() {
  const [status, setStatus] = useState<Status>("pending");
  const [contestId, setContestId] = useState<string | null>(null);
  const contests = useQuery(listContestsOptions());
  const contestChoices = (contests.data ?? []).map((c) => ({
    value: c.contest_id,
    label: `${c.contest_id} · ${formatCount(c.participants)} participants · ${formatCount(c.pending_review)} to review`,
  }));
  const content = useQuery(listContentOptions({ query: { status, contest_id: contestId } }));
  return (
    <Stack gap="md">
      <Group align="flex-end">
        <SegmentedControl
          aria-label="Review status"
          value={status}
          onChange={(v) => setStatus(v)}
          data={[{ value: "pending", label: "Pending" }, { value: "approved", label: "Approved" }, { value: "rejected", label: "Rejected" }]}
        />
        <Select
          label="Contest"
          placeholder={contests.isPending ? "Loading contests…" : contestChoices.length ? "Any contest" : "No contests yet"}
          data={contestChoices}
          value={contestId}
          onChange={setContestId}
          searchable
          clearable
          nothingFoundMessage="No such contest"
          w={360}
        />
      </Group>
      {contestId ? <Contest id={contestId} /> : null}
      <QueryState query={content} loadingLabel="Loading user content" isEmpty={(d) => d.items.length === 0} empty={<Empty title={`No ${status} content`} />}>
        {(page) => <ContentTable items={page.items} />}
      </QueryState>
    </Stack>
  );
}

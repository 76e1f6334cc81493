// Influencers (GET /v1/influencers) with the report of the one chosen (GET /v1/influencers/{id}/report): their posts'
// reach and engagement, follower growth, and the sessions, sign-ups, orders and revenue their codes brought.
import { Badge, Button, Group, Paper, SimpleGrid, Stack, Table, TagsInput, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import {
  createInfluencerMutation,
  getInfluencerReportOptions,
  listInfluencersOptions,
  listInfluencersQueryKey,
} from "../../client/campaigns/@tanstack/react-query.gen";
import type { InfluencerRead } from "../../client/campaigns/types.gen";
import { WriteAccess } from "../../components/Access";
import { Empty, QueryState } from "../../components/QueryState";
import { StatCard } from "../../components/StatCard";
import { errorMessage, ApiError } from "../../api/errors";
import { formatCount, formatCurrency, formatPercent, formatSignedPercent } from "../../lib/format";
import type { InfluencerReport } from "./shapes";
import type { Period } from "./period";

export function InfluencerReportView({ report }: { report: InfluencerReport }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      <StatCard label="Posts" value={formatCount(report.posts.posts)} />
      <StatCard label="Reach" value={formatCount(report.posts.reach)} />
      <StatCard label="Engagements" value={formatCount(report.posts.engagements)} hint={`${formatPercent(report.posts.engagement_rate_by_reach, 2)} of reach`} />
      <StatCard label="Follower growth" value={formatSignedPercent(report.followers.growth_rate)} hint={`${formatCount(report.followers.start)} → ${formatCount(report.followers.end)}`} />
      <StatCard label="Sessions" value={formatCount(report.sessions)} />
      <StatCard label="Sign-ups" value={formatCount(report.signups)} hint={`${formatPercent(report.signup_rate, 2)} of sessions`} />
      <StatCard label="Orders" value={formatCount(report.orders)} hint={`${formatPercent(report.order_rate, 2)} of sessions`} />
      <StatCard label="Revenue" value={formatCurrency(report.revenue)} />
    </SimpleGrid>
  );
}

function Report({ influencer, period }: { influencer: InfluencerRead; period: Period }) {
  const report = useQuery({
    ...getInfluencerReportOptions({ path: { influencer_id: influencer.id }, query: period }),
    select: (d) => d as unknown as InfluencerReport,
  });
  return (
    <Paper withBorder p="md" component="section" aria-label={`Report of ${influencer.name}`}>
      <Title order={3} size="h5" mb="sm">{influencer.name} · @{influencer.handle} on {influencer.platform}</Title>
      <QueryState query={report} loadingLabel="Loading the influencer's report">
        {(r) => <InfluencerReportView report={r} />}
      </QueryState>
    </Paper>
  );
}

function NewInfluencer() {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [platform, setPlatform] = useState("");
  const [handle, setHandle] = useState("");
  const [codes, setCodes] = useState<string[]>([]);
  const [campaigns, setCampaigns] = useState<string[]>([]);
  const create = useMutation({
    ...createInfluencerMutation(),
    onSuccess: () => {
      setName(""); setPlatform(""); setHandle(""); setCodes([]); setCampaigns([]);
      void queryClient.invalidateQueries({ queryKey: listInfluencersQueryKey() });
    },
  });
  const fieldError = (f: string) => (create.error instanceof ApiError ? create.error.fields.find((e) => e.field.endsWith(f))?.reason : undefined);
  const ready = name.trim() && platform.trim() && handle.trim();
  return (
    <Paper withBorder p="md" component="form" aria-label="New influencer" onSubmit={(e) => { e.preventDefault(); if (ready) create.mutate({ body: { name, platform, handle, referral_codes: codes, utm_campaigns: campaigns } }); }}>
      <Title order={3} size="h5" mb="sm">New influencer</Title>
      <Group align="flex-start">
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError("name")} />
        <TextInput label="Platform" required placeholder="instagram" value={platform} onChange={(e) => setPlatform(e.currentTarget.value)} error={fieldError("platform")} />
        <TextInput label="Handle" required placeholder="@name" value={handle} onChange={(e) => setHandle(e.currentTarget.value)} error={fieldError("handle")} />
        <TagsInput label="Referral codes" value={codes} onChange={setCodes} w={220} />
        <TagsInput label="UTM campaigns" value={campaigns} onChange={setCampaigns} w={220} />
      </Group>
      {create.isError && !fieldError("name") ? <Text c="red" size="sm" mt="xs" role="alert">{errorMessage(create.error)}</Text> : null}
      <Button type="submit" mt="sm" disabled={!ready} loading={create.isPending}>Add influencer</Button>
    </Paper>
  );
}

export function InfluencersPanel({ period }: { period: Period }) {
  const influencers = useQuery(listInfluencersOptions());
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <Stack gap="md">
      <QueryState query={influencers} loadingLabel="Loading influencers" isEmpty={(d) => d.length === 0} empty={<Empty title="No influencers yet" description="Register an influencer with the codes and UTM campaigns that credit them." />}>
        {(rows) => (
          <Stack gap="md">
            <Table aria-label="Influencers" verticalSpacing="xs" highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Account</Table.Th>
                  <Table.Th>Referral codes</Table.Th>
                  <Table.Th>UTM campaigns</Table.Th>
                  <Table.Th><VisuallyHidden>Report</VisuallyHidden></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((i) => (
                  <Table.Tr key={i.id}>
                    <Table.Th scope="row">{i.name}</Table.Th>
                    <Table.Td>@{i.handle} · {i.platform}</Table.Td>
                    <Table.Td>{i.referral_codes.map((c) => <Badge key={c} variant="light" mr={4}>{c}</Badge>)}</Table.Td>
                    <Table.Td>{i.utm_campaigns.map((c) => <Badge key={c} variant="outline" mr={4}>{c}</Badge>)}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant={chosen === i.id ? "filled" : "light"} onClick={() => setChosen(i.id)} aria-label={`Show the report of ${i.name}`}>
                        Report
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {(() => {
              const influencer = rows.find((i) => i.id === chosen);
              return influencer ? <Report influencer={influencer} period={period} /> : null;
            })()}
          </Stack>
        )}
      </QueryState>
      <WriteAccess>
        <NewInfluencer />
      </WriteAccess>
    </Stack>
  );
}

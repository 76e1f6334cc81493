// Feedback inbox: comments, mentions, reviews and survey answers with their sentiment, filtered by status,
// sentiment, platform, product and segment; response times, the sentiment distribution and trend, and the terms
// negative feedback uses most. Marketers mark items responded or close them; analysts read.
import { Button, Center, Group, Paper, Select, Stack, TextInput, Title } from "@mantine/core";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import {
  getFeedbackStatsOptions,
  getNegativeTermsOptions,
  listFeedbackInfiniteOptions,
} from "../../client/profiles/@tanstack/react-query.gen";
import type { ListFeedbackData } from "../../client/profiles/types.gen";
import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { FeedbackItem } from "../../features/feedback/FeedbackList";
import { dayWindow, daysAgo, isoDay } from "../../lib/days";
import { NegativeTermsTable, ResponseFigures, SentimentCharts } from "../../features/feedback/FeedbackStatsView";

export const Route = createFileRoute("/_console/feedback/")({
  component: FeedbackPage,
});

type Query = NonNullable<ListFeedbackData["query"]>;

function Report({ filters }: { filters: Query }) {
  const { platform, product, segment_id, from, to } = filters;
  const stats = useQuery({ ...getFeedbackStatsOptions({ query: { platform, product, segment_id, from, to } }), placeholderData: keepPreviousData });
  const terms = useQuery({ ...getNegativeTermsOptions({ query: { platform, product, from, to } }), placeholderData: keepPreviousData });
  return (
    <Stack gap="md">
      <QueryState query={stats} loadingLabel="Loading the feedback report">
        {(s) => (
          <Stack gap="md">
            <ResponseFigures summary={s.total} />
            <SentimentCharts summary={s.total} />
          </Stack>
        )}
      </QueryState>
      <Paper withBorder p="md" component="section" aria-label="Negative feedback terms">
        <Title order={3} size="h5" mb="sm">Most frequent terms in negative feedback</Title>
        <QueryState query={terms} loadingLabel="Loading terms">
          {(t) => <NegativeTermsTable terms={t} />}
        </QueryState>
      </Paper>
    </Stack>
  );
}

function Items({ filters }: { filters: Query }) {
  const items = useInfiniteQuery({
    ...listFeedbackInfiniteOptions({ query: filters }),
    // An object, not null: the generated query function reads any object page parameter as request options.
    initialPageParam: {},
    getNextPageParam: (page) => page.next_cursor,
  });
  const query = {
    data: items.data?.pages.flatMap((p) => p.items),
    error: items.error,
    isPending: items.isPending,
    isError: items.isError,
    refetch: items.refetch,
  };
  return (
    <section aria-label="Feedback items">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">Items</Title>
        <Freshness fetchedAt={items.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={query} loadingLabel="Loading feedback" isEmpty={(d) => d.length === 0} empty={<Empty title="No feedback matches" description="Change the filters, or wait for comments, reviews and surveys to arrive." />}>
        {(rows) => (
          <Stack gap="sm">
            {rows.map((item) => <FeedbackItem key={item.id} item={item} />)}
            {items.hasNextPage ? (
              <Center>
                <Button variant="light" loading={items.isFetchingNextPage} onClick={() => void items.fetchNextPage()}>Load more</Button>
              </Center>
            ) : null}
          </Stack>
        )}
      </QueryState>
    </section>
  );
}

function FeedbackPage() {
  const [status, setStatus] = useState<Query["status"]>("open");
  const [sentiment, setSentiment] = useState<Query["sentiment"]>(null);
  const [platform, setPlatform] = useState("");
  const [product, setProduct] = useState("");
  const [segment, setSegment] = useState<string | null>(null);
  const [from, setFrom] = useState(() => daysAgo(29));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  const valid = Boolean(from && to) && from <= to;
  const common = { platform: platform.trim() || null, product: product.trim() || null, segment_id: segment, ...(valid ? dayWindow(from, to) : {}) };
  return (
    <>
      <PageHeader title="Feedback" description="Comments, mentions, reviews and survey answers with their sentiment; response times." />
      <Stack gap="lg">
        <Group align="flex-end" role="group" aria-label="Filters">
          <Select label="Status" placeholder="Any" clearable value={status ?? null} onChange={(v) => setStatus(v)} data={["open", "responded", "closed"]} w={140} />
          <Select label="Sentiment" placeholder="Any" clearable value={sentiment ?? null} onChange={(v) => setSentiment(v)} data={["positive", "neutral", "negative"]} w={140} />
          <TextInput label="Platform" placeholder="Any" value={platform} onChange={(e) => setPlatform(e.currentTarget.value)} w={140} />
          <TextInput label="Product" placeholder="Any" value={product} onChange={(e) => setProduct(e.currentTarget.value)} w={140} />
          <Select label="Segment" placeholder="Everyone" clearable searchable data={(segments.data ?? []).map((s) => ({ value: s.id, label: s.name }))} value={segment} onChange={setSegment} w={200} />
          <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} error={from && to && from > to ? "After the end" : undefined} />
          <TextInput type="date" label="To (inclusive)" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Group>
        <Report filters={common} />
        <Items filters={{ ...common, status, sentiment }} />
      </Stack>
    </>
  );
}

// A customer's interactions, newest first, loaded page by page (cursor) as the list is scrolled.
import { Badge, Button, Group, Stack, Text, Timeline as MantineTimeline } from "@mantine/core";
import { useIntersection } from "@mantine/hooks";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect } from "react";

import { getTimelineInfiniteOptions } from "../../client/profiles/@tanstack/react-query.gen";
import type { TimelineItem } from "../../client/profiles/types.gen";
import { Empty, ErrorState, Loading } from "../../components/QueryState";
import { formatCurrency, formatDateTime, formatValue } from "../../lib/format";

const PAGE = 50;
const SHOWN_PROPERTIES = ["revenue", "order_id", "product_id", "path", "url", "campaign_id", "platform", "rating", "score", "text", "title"];

function summary(item: TimelineItem): string {
  const parts: string[] = [];
  for (const key of SHOWN_PROPERTIES) {
    const value = item.properties[key];
    if (value === undefined || value === null || value === "") continue;
    parts.push(key === "revenue" && typeof value === "number" ? `revenue ${formatCurrency(value)}` : `${key.replaceAll("_", " ")} ${formatValue(value)}`);
  }
  return parts.join(" · ");
}

export function Timeline({ profileId }: { profileId: string }) {
  const timeline = useInfiniteQuery({
    ...getTimelineInfiniteOptions({ path: { profile_id: profileId }, query: { limit: PAGE } }),
    // The first page: no cursor. (The generated options read an object page param as parameters to merge.)
    initialPageParam: { path: { profile_id: profileId } },
    getNextPageParam: (last) => last.next_cursor,
  });
  const { ref, entry } = useIntersection({ rootMargin: "200px" });
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = timeline;
  useEffect(() => {
    if (entry?.isIntersecting && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [entry?.isIntersecting, hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (timeline.isPending) return <Loading label="Loading the timeline" />;
  if (timeline.isError) return <ErrorState error={timeline.error} onRetry={() => void timeline.refetch()} />;
  const items = timeline.data.pages.flatMap((p) => p.items);
  if (!items.length) return <Empty title="No interactions recorded" />;
  return (
    <Stack gap="md">
      <MantineTimeline bulletSize={12} lineWidth={2} aria-label="Interactions, newest first">
        {items.map((item) => (
          <MantineTimeline.Item
            key={item.message_id}
            title={
              <Group gap="xs" wrap="wrap">
                <Text fw={600} size="sm">
                  {item.name ?? item.type}
                </Text>
                <Badge size="xs" variant="light" color="gray">
                  {item.type}
                </Badge>
              </Group>
            }
          >
            <Text size="xs" c="dimmed" component="time" dateTime={item.occurred_at}>
              {formatDateTime(item.occurred_at)}
            </Text>
            {summary(item) ? (
              <Text size="sm" lineClamp={2}>
                {summary(item)}
              </Text>
            ) : null}
          </MantineTimeline.Item>
        ))}
      </MantineTimeline>
      <div ref={ref} />
      {hasNextPage ? (
        <Button variant="light" size="xs" onClick={() => void fetchNextPage()} loading={isFetchingNextPage} style={{ alignSelf: "flex-start" }}>
          Load older interactions
        </Button>
      ) : (
        <Text size="xs" c="dimmed">
          That is the whole timeline.
        </Text>
      )}
    </Stack>
  );
}

import { Badge, Group, List, Text } from "@mantine/core";

import { AnchorLink } from "../../components/links";
import { ErrorState } from "../../components/QueryState";
import { formatCount, formatDelta } from "../../lib/format";
import { useSegmentChanges } from "./useSegmentChanges";

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** Live entries and exits (net, per segment, checked every 2 s), newest first. */
export function SegmentChangesFeed({ segmentId }: { segmentId?: string }) {
  const { changes, since, query } = useSegmentChanges(segmentId);
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  return (
    <div aria-live="polite" aria-relevant="additions">
      <Text size="xs" c="dimmed" mb="xs">
        Watching since {timeFormat.format(since)}; sizes checked every 2 seconds
        {query.isFetching ? " …" : ""}.
      </Text>
      {changes.length === 0 ? (
        <Text size="sm" c="dimmed">
          No one has entered or left {segmentId ? "this segment" : "a segment"} since then.
        </Text>
      ) : (
        <List spacing={6} listStyleType="none" p={0}>
          {changes.map((c) => {
            const delta = c.to - c.from;
            return (
              <List.Item key={c.key}>
                <Group gap="xs" wrap="nowrap">
                  <Text size="xs" c="dimmed" className="tabular" component="time" dateTime={c.at.toISOString()}>
                    {timeFormat.format(c.at)}
                  </Text>
                  <Badge color={delta > 0 ? "green" : "orange"} variant="light" className="tabular">
                    {formatDelta(delta)} {delta > 0 ? "entered" : "left"}
                  </Badge>
                  {segmentId ? null : (
                    <AnchorLink to="/segments/$segmentId" params={{ segmentId: c.segmentId }} size="sm" truncate>
                      {c.name}
                    </AnchorLink>
                  )}
                  <Text size="xs" c="dimmed" className="tabular">
                    {formatCount(c.from)} → {formatCount(c.to)}
                  </Text>
                </Group>
              </List.Item>
            );
          })}
        </List>
      )}
    </div>
  );
}

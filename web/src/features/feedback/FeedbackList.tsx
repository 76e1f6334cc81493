// The feedback inbox's items (GET /v1/feedback): the text with its sentiment, where it came from, the customer, and
// for marketers "responded" and "close" (POST /v1/feedback/{id}/respond).
import { Badge, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { errorMessage } from "../../api/errors";
import { respondToFeedbackMutation } from "../../client/profiles/@tanstack/react-query.gen";
import type { FeedbackRead } from "../../client/profiles/types.gen";
import { WriteAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { formatNumber } from "../../lib/format";

const SENTIMENT_COLOR = { positive: "teal", neutral: "gray", negative: "red" } as const;
const STATUS_COLOR = { open: "blue", responded: "yellow", closed: "gray" } as const;

export function SentimentBadge({ item }: { item: FeedbackRead }) {
  if (!item.label) return <Badge variant="outline" color="gray">not scored</Badge>;
  return (
    <Badge variant="light" color={SENTIMENT_COLOR[item.label]} title={`compound ${formatNumber(item.compound, 3)}`}>
      {item.label} {formatNumber(item.compound, 2)}
    </Badge>
  );
}

function Actions({ item }: { item: FeedbackRead }) {
  const queryClient = useQueryClient();
  const respond = useMutation({
    ...respondToFeedbackMutation(),
    // The list and the response-time figures both change.
    onSuccess: () => void queryClient.invalidateQueries({ predicate: (q) => /"(listFeedback|getFeedbackStats|getFeedback)"/.test(JSON.stringify(q.queryKey)) }),
  });
  if (item.status === "closed") return null;
  const closing = respond.isPending && respond.variables.body?.close === true;
  return (
    <Group gap="xs">
      {item.status === "open" ? (
        <Button size="xs" variant="light" loading={respond.isPending && !closing} onClick={() => respond.mutate({ path: { item_id: item.id }, body: {} })} aria-label={`Mark responded: feedback ${item.id}`}>
          Mark responded
        </Button>
      ) : null}
      <Button size="xs" variant="subtle" color="gray" loading={closing} onClick={() => respond.mutate({ path: { item_id: item.id }, body: { close: true } })} aria-label={`Close feedback ${item.id}`}>
        Close
      </Button>
      {respond.isError ? <Text size="xs" c="red" role="alert">{errorMessage(respond.error)}</Text> : null}
    </Group>
  );
}

export function FeedbackItem({ item }: { item: FeedbackRead }) {
  return (
    <Paper withBorder p="sm" component="article" aria-label={`Feedback ${item.id}`} data-testid={`feedback-${item.id}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Group gap="xs">
            <SentimentBadge item={item} />
            <Badge variant="dot" color={STATUS_COLOR[item.status]}>{item.status}</Badge>
            {item.rating !== null ? <Badge variant="outline">rating {formatNumber(item.rating, 1)}</Badge> : null}
          </Group>
          <Text size="xs" c="dimmed"><RelativeTime value={item.received_at} prefix="received " /></Text>
        </Group>
        <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>{item.text}</Text>
        <Group justify="space-between">
          <Text size="xs" c="dimmed">
            {item.event}
            {item.platform ? ` · ${item.platform}` : ""}
            {item.product_id ? ` · product ${item.product_id}` : ""}
            {" · "}
            <AnchorLink to="/customers/$profileId" params={{ profileId: item.profile_id }} size="xs">
              customer {item.profile_id}
            </AnchorLink>
            {item.responded_at ? <> · <RelativeTime value={item.responded_at} prefix="responded " /></> : null}
          </Text>
          <WriteAccess>
            <Actions item={item} />
          </WriteAccess>
        </Group>
      </Stack>
    </Paper>
  );
}

// A customer's engagement score: weighted events decaying with a half-life, computed by profiles at the time of the
// read (so it is exact as of the moment the page was loaded, and lower the longer the customer stays quiet).
import { Paper, Text } from "@mantine/core";

import { Freshness } from "../../components/Freshness";
import { formatNumber } from "../../lib/format";

export function EngagementScore({ computed, fetchedAt }: { computed: Record<string, unknown>; fetchedAt: number }) {
  const score = computed.engagement_score;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label="Engagement score">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        Engagement score
      </Text>
      <Text fz={26} fw={700} mt={4} className="tabular" data-testid="engagement-score">
        {typeof score === "number" ? formatNumber(score, 1) : "–"}
      </Text>
      <Text size="xs" c="dimmed" mt={2}>
        {typeof score === "number"
          ? "Weighted events (an order counts most), halving with every half-life without activity."
          : "No scored activity yet."}{" "}
        <Freshness fetchedAt={fetchedAt || undefined} />
      </Text>
    </Paper>
  );
}

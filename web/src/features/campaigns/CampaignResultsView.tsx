// A campaign's results by variant: funnel (chart and table), lift against the holdout, variants compared and the
// attribution model switch. The figures are the API's; this only lays them out.
import { Paper, SimpleGrid, Stack, Switch, Title } from "@mantine/core";
import type { ReactNode } from "react";

import { Attribution, type AttributionChoice } from "./Attribution";
import { FunnelChart, FunnelTable, funnelArms } from "./Funnel";
import { HoldoutLift, VariantsCompared } from "./LiftPanel";
import type { CampaignResults } from "./shapes";

export function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = `section-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Stack gap="sm">
        <Title order={2} size="h4" id={id}>
          {title}
        </Title>
        {children}
      </Stack>
    </Paper>
  );
}

export function CampaignResultsView({
  results,
  attribution,
  onAttribution,
  onSequential,
}: {
  results: CampaignResults;
  attribution: AttributionChoice;
  onAttribution: (next: AttributionChoice) => void;
  onSequential?: (sequential: boolean) => void;
}) {
  const arms = funnelArms(results);
  return (
    <Stack gap="lg">
      <Section title="Funnel">
        <FunnelChart arms={arms} />
        <FunnelTable arms={arms} />
      </Section>
      <Switch
        label="Sequential testing"
        aria-label="Sequential testing"
        description="Intervals and p-values that stay valid however often you look while the campaign runs (wider than fixed-horizon ones); the API recomputes them."
        checked={results.sequential}
        disabled={!onSequential}
        onChange={(e) => onSequential?.(e.currentTarget.checked)}
      />
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section title="Lift against the holdout">
          <HoldoutLift results={results} />
        </Section>
        <Section title="Variants compared">
          <VariantsCompared results={results} />
        </Section>
      </SimpleGrid>
      <Section title="Attribution">
        <Attribution value={attribution} onChange={onAttribution} attributed={results.attributed} />
      </Section>
    </Stack>
  );
}

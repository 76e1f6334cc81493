// One campaign: its settings in brief, the pre-flight before launch, launch / pause / winner, and its results.
import { Badge, Group, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import {
  getCampaignOptions,
  getLinkClicksOptions,
  getPreflightOptions,
  getResultsOptions,
  listExportsOptions,
} from "../../../client/campaigns/@tanstack/react-query.gen";
import type { CampaignRead } from "../../../client/campaigns/types.gen";
import { listSegmentsOptions } from "../../../client/segmentation/@tanstack/react-query.gen";
import { WriteAccess } from "../../../components/Access";
import { Freshness } from "../../../components/Freshness";
import { ButtonLink } from "../../../components/links";
import { PageHeader } from "../../../components/PageHeader";
import { Empty, QueryState } from "../../../components/QueryState";
import type { AttributionChoice } from "../../../features/campaigns/Attribution";
import { CampaignActions } from "../../../features/campaigns/CampaignActions";
import { CampaignResultsView, Section } from "../../../features/campaigns/CampaignResultsView";
import { CampaignStatus } from "../../../features/campaigns/CampaignStatus";
import { ExportsPanel } from "../../../features/campaigns/ExportsPanel";
import { ExposuresTable } from "../../../features/campaigns/ExposuresTable";
import { LinksTable } from "../../../features/campaigns/LinksTable";
import { PreflightFigures } from "../../../features/campaigns/PreflightPanel";
import { SegmentResultsTable } from "../../../features/campaigns/SegmentResultsTable";
import type { CampaignResults, SegmentResults } from "../../../features/campaigns/shapes";
import { RetentionUpliftPanel } from "../../../features/retention/RetentionUplift";

export const Route = createFileRoute("/_console/campaigns/$campaignId/")({
  component: CampaignPage,
});

const BEFORE_LAUNCH = new Set(["draft", "scheduled", "paused"]);
const BUSY = new Set(["running", "scheduled", "testing", "active"]);

function useSegmentNames(): (id: string) => string {
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  return (id) => segments.data?.find((s) => s.id === id)?.name ?? id;
}

function CampaignPage() {
  const { campaignId } = Route.useParams();
  const campaign = useQuery({
    ...getCampaignOptions({ path: { campaign_id: campaignId } }),
    refetchInterval: (q) => (q.state.data && BUSY.has(q.state.data.status) ? 5_000 : 30_000),
  });
  return (
    <QueryState query={campaign} loadingLabel="Loading the campaign">
      {(c) => <CampaignDetail campaign={c} fetchedAt={campaign.dataUpdatedAt} />}
    </QueryState>
  );
}

function CampaignDetail({ campaign, fetchedAt }: { campaign: CampaignRead; fetchedAt: number }) {
  const segmentName = useSegmentNames();
  return (
    <>
      <PageHeader
        title={campaign.name}
        description={
          <>
            Goal: {campaign.goal_event} · targets {campaign.target_segments.map(segmentName).join(", ")}
            {campaign.exclude_segments.length ? ` · excludes ${campaign.exclude_segments.map(segmentName).join(", ")}` : ""}
          </>
        }
        meta={
          <Group gap="xs">
            <CampaignStatus status={campaign.status} />
            <Badge variant="outline" color="gray">
              {campaign.channel}
            </Badge>
            <Freshness fetchedAt={fetchedAt || undefined} />
          </Group>
        }
        actions={
          <WriteAccess>
            {BEFORE_LAUNCH.has(campaign.status) ? (
              <ButtonLink variant="default" to="/campaigns/$campaignId/edit" params={{ campaignId: campaign.id }}>
                Edit
              </ButtonLink>
            ) : null}
            <CampaignActions campaign={campaign} />
          </WriteAccess>
        }
      />
      {campaign.last_error ? (
        <Text c="red.8" size="sm" mb="md" role="alert">
          Last error: {campaign.last_error}
        </Text>
      ) : null}
      <Stack gap="lg">
      {BEFORE_LAUNCH.has(campaign.status) ? <Preflight campaignId={campaign.id} /> : null}
      <Results campaign={campaign} />
      <Section title="Retention uplift">
        <RetentionUpliftPanel campaignId={campaign.id} />
      </Section>
      <SegmentSection campaignId={campaign.id} segmentName={segmentName} />
      <LinksSection campaignId={campaign.id} />
      <Section title="Exposures">
        <ExposuresTable campaignId={campaign.id} variantName={(id) => variantName(campaign, id)} />
      </Section>
      {campaign.channel !== "email" ? <ExportsSection campaign={campaign} /> : null}
      </Stack>
    </>
  );
}

function variantName(campaign: CampaignRead, id: string): string {
  const name = campaign.variants.find((v) => v.id === id)?.name;
  return typeof name === "string" ? name : id;
}

function Preflight({ campaignId }: { campaignId: string }) {
  const preflight = useQuery(getPreflightOptions({ path: { campaign_id: campaignId } }));
  return (
    <Section title="Pre-flight">
      <QueryState query={preflight} loadingLabel="Checking who would receive it">
        {(p) => <PreflightFigures preflight={p} />}
      </QueryState>
    </Section>
  );
}

function Results({ campaign }: { campaign: CampaignRead }) {
  const [attribution, setAttribution] = useState<AttributionChoice>({ model: null, windowDays: null });
  const [sequential, setSequential] = useState(false);
  const results = useQuery({
    ...getResultsOptions({
      path: { campaign_id: campaign.id },
      query: {
        attribution_model: attribution.model ?? undefined,
        window_days: attribution.windowDays ?? undefined,
        sequential: sequential || undefined,
      },
    }),
    placeholderData: (previous) => previous,
    select: (d) => d as unknown as CampaignResults,
  });
  return (
    <QueryState query={results} loadingLabel="Loading results">
      {(r) => (
        <>
          <Freshness fetchedAt={results.dataUpdatedAt || undefined} />
          <CampaignResultsView results={r} attribution={attribution} onAttribution={setAttribution} onSequential={setSequential} />
        </>
      )}
    </QueryState>
  );
}

function SegmentSection({ campaignId, segmentName }: { campaignId: string; segmentName: (id: string) => string }) {
  const bySegment = useQuery({
    ...getResultsOptions({ path: { campaign_id: campaignId }, query: { by: "segment" } }),
    select: (d) => d as unknown as SegmentResults,
  });
  return (
    <Section title="Results per target segment">
      <QueryState query={bySegment} isEmpty={(d) => d.segments.length === 0} empty={<Empty title="No sends yet" />}>
        {(d) => <SegmentResultsTable rows={d.segments} segmentName={segmentName} />}
      </QueryState>
    </Section>
  );
}

function LinksSection({ campaignId }: { campaignId: string }) {
  const links = useQuery(getLinkClicksOptions({ path: { campaign_id: campaignId } }));
  return (
    <Section title="Clicks per link">
      <QueryState query={links} isEmpty={(d) => d.length === 0} empty={<Empty title="No clicks yet" />}>
        {(rows) => <LinksTable rows={rows} />}
      </QueryState>
    </Section>
  );
}

function ExportsSection({ campaign }: { campaign: CampaignRead }) {
  const exports = useQuery({
    ...listExportsOptions({ path: { campaign_id: campaign.id } }),
  });
  return (
    <Section title="Audience exports">
      <QueryState query={exports} isEmpty={(d) => d.length === 0} empty={<Empty title="No exports yet" description="Each launch of an audience export makes one." />}>
        {(rows) => <ExportsPanel campaignId={campaign.id} rows={rows} pushes={Boolean(campaign.webhook_url)} />}
      </QueryState>
    </Section>
  );
}

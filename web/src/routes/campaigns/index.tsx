// Campaigns: each with its status, channel, audience, sends, human opens, clicks, conversions and lift.
import { IconPlus } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { listCampaignSummariesOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import { WriteAccess } from "../../components/Access";
import { Freshness } from "../../components/Freshness";
import { ButtonLink } from "../../components/links";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { CampaignTable } from "../../features/campaigns/CampaignTable";

export const Route = createFileRoute("/_console/campaigns/")({
  component: CampaignsPage,
});

const BUSY = new Set(["running", "scheduled", "testing", "active"]);

function CampaignsPage() {
  const summaries = useQuery({
    ...listCampaignSummariesOptions(),
    refetchInterval: (q) => (q.state.data?.some((c) => BUSY.has(c.status)) ? 5_000 : 30_000),
  });
  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Messages to segments, measured against a holdout: sends, opens, clicks, conversions and lift."
        meta={<Freshness fetchedAt={summaries.dataUpdatedAt || undefined} />}
        actions={
          <WriteAccess>
            <ButtonLink to="/campaigns/new" leftSection={<IconPlus size={16} aria-hidden />}>
              New campaign
            </ButtonLink>
          </WriteAccess>
        }
      />
      <QueryState
        query={summaries}
        loadingLabel="Loading campaigns"
        isEmpty={(d) => d.length === 0}
        empty={<Empty title="No campaigns yet" description="A campaign sends variants of a message to segments, keeping a holdout to measure lift." />}
      >
        {(rows) => <CampaignTable rows={rows} />}
      </QueryState>
    </>
  );
}

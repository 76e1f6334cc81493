import { useMutation, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { createCampaignMutation } from "../../client/campaigns/@tanstack/react-query.gen";
import { PageHeader } from "../../components/PageHeader";
import { CampaignForm } from "../../features/campaigns/editor/CampaignForm";
import { createBody, emptyValues } from "../../features/campaigns/editor/values";

export const Route = createFileRoute("/_console/campaigns/new")({
  component: NewCampaignPage,
});

function NewCampaignPage() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const create = useMutation({ ...createCampaignMutation() });
  return (
    <>
      <PageHeader title="New campaign" description="Saved as a draft: check the pre-flight on its page, then launch." />
      <CampaignForm
        initial={emptyValues()}
        submitLabel="Save draft"
        onCancel={() => void navigate({ to: "/campaigns" })}
        onSubmit={async (values) => {
          const campaign = await create.mutateAsync({ body: createBody(values) });
          await client.invalidateQueries({ predicate: (q) => JSON.stringify(q.queryKey).includes("ampaign") });
          await navigate({ to: "/campaigns/$campaignId/edit", params: { campaignId: campaign.id } });
        }}
      />
    </>
  );
}

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { getCampaignOptions, updateCampaignMutation } from "../../../client/campaigns/@tanstack/react-query.gen";
import { PageHeader } from "../../../components/PageHeader";
import { QueryState } from "../../../components/QueryState";
import { CampaignForm } from "../../../features/campaigns/editor/CampaignForm";
import { updateBody, valuesOf } from "../../../features/campaigns/editor/values";

export const Route = createFileRoute("/_console/campaigns/$campaignId/edit")({
  component: EditCampaignPage,
});

function EditCampaignPage() {
  const { campaignId } = Route.useParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const campaign = useQuery(getCampaignOptions({ path: { campaign_id: campaignId } }));
  const update = useMutation({ ...updateCampaignMutation() });
  const back = () => void navigate({ to: "/campaigns/$campaignId", params: { campaignId } });
  return (
    <>
      <PageHeader title={campaign.data ? `Edit “${campaign.data.name}”` : "Edit campaign"} description="Changes apply while the campaign is a draft, scheduled or paused." />
      <QueryState query={campaign} loadingLabel="Loading the campaign">
        {(c) => (
          <CampaignForm
            initial={valuesOf(c)}
            campaignId={c.id}
            submitLabel="Save"
            onCancel={back}
            onSubmit={async (values) => {
              await update.mutateAsync({ path: { campaign_id: c.id }, body: updateBody(values) });
              await client.invalidateQueries({ predicate: (q) => JSON.stringify(q.queryKey).includes(c.id) });
              back();
            }}
          />
        )}
      </QueryState>
    </>
  );
}

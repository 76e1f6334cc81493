// Why is this customer in (or not in) this segment: the definition evaluated for one profile.
import { Group, Paper, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { explainSegmentOptions } from "../../../client/segmentation/@tanstack/react-query.gen";
import { getProfileOptions } from "../../../client/profiles/@tanstack/react-query.gen";
import { getSegmentOptions } from "../../../client/segmentation/@tanstack/react-query.gen";
import { AnchorLink } from "../../../components/links";
import { PageHeader } from "../../../components/PageHeader";
import { QueryState } from "../../../components/QueryState";
import { FindProfile } from "../../../features/customers/FindProfile";
import { profileLabel } from "../../../features/customers/profiles";
import { ExplainTree } from "../../../features/segments/ExplainTree";
import { useSegmentNames } from "../../../features/segments/suggestions";

export const Route = createFileRoute("/_console/segments/$segmentId/explain")({
  validateSearch: (search: Record<string, unknown>): { profile?: string } =>
    typeof search.profile === "string" && search.profile ? { profile: search.profile } : {},
  component: ExplainPage,
});

function ExplainPage() {
  const { segmentId } = Route.useParams();
  const { profile: profileId } = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const segment = useQuery(getSegmentOptions({ path: { segment_id: segmentId } }));
  const profile = useQuery({ ...getProfileOptions({ path: { profile_id: profileId ?? "" } }), enabled: !!profileId });
  const who = profileId ? profileLabel(profile.data, profileId) : null;
  return (
    <>
      <PageHeader
        title={who ? `Why ${who} is or is not in this segment` : "Why is a customer in this segment?"}
        description={
          <>
            Segment:{" "}
            <AnchorLink to="/segments/$segmentId" params={{ segmentId }}>
              {segment.data?.name ?? segmentId}
            </AnchorLink>
            {profileId ? (
              <>
                {" · "}Customer:{" "}
                <AnchorLink to="/customers/$profileId" params={{ profileId }}>
                  {who}
                </AnchorLink>
              </>
            ) : null}
          </>
        }
      />
      <Stack gap="md">
        <Paper withBorder p="md">
          <Text size="sm" fw={500} mb="xs">
            {profileId ? "Explain for another customer" : "Choose a customer"}
          </Text>
          <FindProfile submitLabel="Explain" onFound={(p) => void navigate({ search: { profile: p.id } })} />
        </Paper>
        {profileId ? <Explanation segmentId={segmentId} profileId={profileId} /> : null}
      </Stack>
    </>
  );
}

function Explanation({ segmentId, profileId }: { segmentId: string; profileId: string }) {
  const names = useSegmentNames();
  const explanation = useQuery({
    ...explainSegmentOptions({ path: { segment_id: segmentId }, query: { profile_id: profileId } }),
    staleTime: 5_000,
  });
  return (
    <QueryState query={explanation} loadingLabel="Evaluating the definition for this customer" errorTitle="Could not explain">
      {(data) => (
        <Group align="flex-start">
          <div style={{ flex: 1, minWidth: 0 }}>
            <ExplainTree explanation={data} names={names} />
          </div>
        </Group>
      )}
    </QueryState>
  );
}

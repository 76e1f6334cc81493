import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { listSegmentsQueryKey } from "../../client/segmentation/@tanstack/react-query.gen";
import { createSegment } from "../../client/segmentation/sdk.gen";
import { PageHeader } from "../../components/PageHeader";
import { SegmentForm, type SegmentDraft } from "../../features/segments/SegmentForm";

export const Route = createFileRoute("/_console/segments/new")({
  component: NewSegmentPage,
});

const EMPTY: SegmentDraft = {
  name: "",
  description: "",
  definition: { and: [{ computed: "orders", op: "gte", value: 1 }] },
  goal: null,
};

function NewSegmentPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const save = async (draft: SegmentDraft) => {
    const { data } = await createSegment({
      body: { ...draft, definition: draft.definition as Record<string, unknown> },
      throwOnError: true,
    });
    await queryClient.invalidateQueries({ queryKey: listSegmentsQueryKey() });
    notifications.show({ color: "green", message: `“${data.name}” is being built.` });
    await navigate({ to: "/segments/$segmentId", params: { segmentId: data.id } });
  };
  return (
    <>
      <PageHeader title="New segment" description="Combine traits, behaviour, scores and other segments. The count updates as you edit." />
      <SegmentForm initial={EMPTY} submitLabel="Create segment" onSubmit={save} onCancel={() => void navigate({ to: "/segments" })} />
    </>
  );
}

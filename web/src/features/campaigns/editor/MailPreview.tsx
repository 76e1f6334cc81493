// A variant rendered by the server for one member of the audience, as it will be sent (tracked links, open pixel,
// unsubscribe link); template errors come back as 422s naming subject or body and the line.
import { Alert, Button, Group, Loader, Paper, Select, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { errorMessage, fieldErrors, isStatus } from "../../../api/errors";
import { usePermissions } from "../../../auth/session";
import { sendTestMailMutation } from "../../../client/campaigns/@tanstack/react-query.gen";
import { previewMail } from "../../../client/campaigns/sdk.gen";
import { listMembersOptions } from "../../../client/segmentation/@tanstack/react-query.gen";

export interface TemplateErrors {
  subject?: string;
  body?: string;
}

function MemberPicker({ segmentId, value, onChange }: { segmentId: string | undefined; value: string | null; onChange: (id: string | null) => void }) {
  const members = useQuery({
    ...listMembersOptions({ path: { segment_id: segmentId ?? "" }, query: { limit: 25 } }),
    enabled: Boolean(segmentId),
  });
  const first = members.data?.items[0]?.profile_id ?? null;
  useEffect(() => {
    if (!value && first) onChange(first);
  }, [value, first, onChange]);
  return (
    <Select
      label="Preview for"
      placeholder={segmentId ? (members.isPending ? "Loading members…" : "No members yet") : "Choose a target segment"}
      data={(members.data?.items ?? []).map((m) => m.profile_id)}
      value={value}
      onChange={onChange}
      searchable
      w={260}
    />
  );
}

export function MailPreview({
  subject,
  body,
  segmentId,
  campaignId,
  variantId,
  onErrors,
}: {
  subject: string;
  body: string;
  segmentId: string | undefined;
  campaignId?: string;
  variantId?: string;
  onErrors: (errors: TemplateErrors) => void;
}) {
  const [profileId, setProfileId] = useState<string | null>(null);
  const [templates] = useDebouncedValue({ subject, body }, 500);
  const preview = useQuery({
    queryKey: ["campaign-preview", templates, profileId, campaignId],
    queryFn: async ({ signal }) => {
      const request = { ...templates, profile_id: profileId ?? "", campaign_id: campaignId ?? null };
      const { data } = await previewMail({ body: request, signal, throwOnError: true });
      return data;
    },
    enabled: Boolean(profileId),
    placeholderData: keepPreviousData,
    retry: false,
  });
  const { error } = preview;
  useEffect(() => {
    onErrors(isStatus(error, 422) ? (fieldErrors(error)) : {});
  }, [error, onErrors]);
  const { me } = usePermissions();
  const test = useMutation({
    ...sendTestMailMutation(),
    onSuccess: (d) => notifications.show({ color: "green", message: `Test mail sent to ${d.sent_to}.` }),
    onError: (e) => notifications.show({ color: "red", title: "Test not sent", message: errorMessage(e) }),
  });
  return (
    <Paper withBorder p="sm">
      <Stack gap="xs">
        <Group align="flex-end" justify="space-between">
          <MemberPicker segmentId={segmentId} value={profileId} onChange={setProfileId} />
          <Group gap="xs">
            {preview.isFetching ? <Loader size="xs" aria-label="Rendering" /> : null}
            <Button
              size="xs"
              variant="light"
              disabled={!campaignId || !variantId || !profileId || !me}
              title={campaignId ? undefined : "Save the campaign first"}
              loading={test.isPending}
              onClick={() =>
                campaignId && variantId && profileId && me
                  ? test.mutate({ path: { campaign_id: campaignId }, body: { variant_id: variantId, profile_id: profileId, to: me.email } })
                  : undefined
              }
            >
              Send a test to me
            </Button>
          </Group>
        </Group>
        {preview.isError && !isStatus(error, 422) ? (
          <Alert color="red" variant="light" role="alert">
            {errorMessage(error)}
          </Alert>
        ) : null}
        {preview.data ? (
          <>
            <Text size="sm">
              <b>Subject:</b> <span data-testid="preview-subject">{preview.data.subject}</span>
            </Text>
            <iframe
              title="Mail preview"
              sandbox=""
              srcDoc={preview.data.html}
              style={{ width: "100%", height: 360, border: "1px solid var(--mantine-color-gray-3)", borderRadius: 4, background: "white" }}
            />
            <Text size="xs" c="dimmed">
              Links in the preview are marked as a test: following them records nothing.
            </Text>
          </>
        ) : !profileId ? (
          <Text size="sm" c="dimmed">The preview is rendered for a member of the first target segment.</Text>
        ) : null}
      </Stack>
    </Paper>
  );
}

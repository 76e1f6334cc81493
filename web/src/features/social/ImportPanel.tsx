// Imports of posts or daily metrics from a CSV file (POST /v1/social/posts|metrics as text/csv); the rows the API
// refused are listed with their line, field and reason, as it gives them.
import { Alert, Button, FileInput, Group, SegmentedControl, Stack, Table, Text } from "@mantine/core";
import { IconUpload } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { errorMessage } from "../../api/errors";
import { importMetrics, importPosts } from "../../client/campaigns/sdk.gen";
import type { ImportMetricsData, ImportPostsData, ImportResult } from "../../client/campaigns/types.gen";
import { formatCount } from "../../lib/format";

export type ImportKind = "posts" | "metrics";

const COLUMNS: Record<ImportKind, string> = {
  posts: "platform, post_id, author, published_at, content_type, text, campaign, influencer_id, competitor, competitor_handle",
  metrics: "platform, post_id, date, impressions, reach, likes, comments, shares, saves, clicks, followers",
};

/** Sends a CSV file's text as it is (the generated client would send JSON). */
export async function importCsv(kind: ImportKind, csv: string): Promise<ImportResult> {
  const csvBody = { bodySerializer: (body: unknown) => String(body), headers: { "Content-Type": "text/csv" }, throwOnError: true as const };
  if (kind === "posts") return (await importPosts({ ...csvBody, body: csv as unknown as ImportPostsData["body"] })).data;
  return (await importMetrics({ ...csvBody, body: csv as unknown as ImportMetricsData["body"] })).data;
}

export function ImportResultView({ result }: { result: ImportResult }) {
  const refused = result.rejected.length;
  return (
    <Stack gap="xs" aria-live="polite">
      {/* The title in the text colour: Mantine's light yellow and teal titles are below 4.5:1 on their background. */}
      <Alert color={refused ? "yellow" : "teal"} variant="light" title={refused ? "Imported with refused rows" : "Imported"} styles={{ title: { color: "var(--mantine-color-text)" } }}>
        <Text size="sm" data-testid="import-summary">
          {formatCount(result.accepted)} rows stored, {formatCount(refused)} refused.
        </Text>
      </Alert>
      {refused ? (
        <Table aria-label="Refused rows" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th ta="right">Line</Table.Th>
              <Table.Th>Field</Table.Th>
              <Table.Th>Reason</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {result.rejected.map((r, i) => (
              <Table.Tr key={`${r.line}-${r.field}-${i}`} data-testid={`refused-${r.line}`}>
                <Table.Td ta="right" className="tabular">{r.line}</Table.Td>
                <Table.Td>{r.field}</Table.Td>
                <Table.Td>{r.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
    </Stack>
  );
}

export function ImportPanel() {
  const [kind, setKind] = useState<ImportKind>("posts");
  const [file, setFile] = useState<File | null>(null);
  const queryClient = useQueryClient();
  const upload = useMutation({
    mutationFn: async () => importCsv(kind, file ? await file.text() : ""),
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  return (
    <Stack gap="md" maw={760}>
      <SegmentedControl
        aria-label="What the file holds"
        value={kind}
        onChange={(v) => { setKind(v); upload.reset(); }}
        data={[{ value: "posts", label: "Posts" }, { value: "metrics", label: "Daily metrics" }]}
      />
      <Text size="sm" c="dimmed">CSV with a header row: {COLUMNS[kind]}.</Text>
      <Group align="flex-end">
        <FileInput label="CSV file" placeholder="Choose a file" accept=".csv,text/csv" value={file} onChange={(f) => { setFile(f); upload.reset(); }} clearable clearButtonProps={{ "aria-label": "Clear the file" }} w={320} />
        <Button leftSection={<IconUpload size={16} aria-hidden />} disabled={!file} loading={upload.isPending} onClick={() => upload.mutate()}>
          Import {kind === "posts" ? "posts" : "metrics"}
        </Button>
      </Group>
      {upload.isError ? (
        <Alert color="red" variant="light" title="The file was refused" role="alert">
          {errorMessage(upload.error)}
        </Alert>
      ) : null}
      {upload.data ? <ImportResultView result={upload.data} /> : null}
    </Stack>
  );
}

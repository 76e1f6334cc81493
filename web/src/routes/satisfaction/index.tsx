// Satisfaction: how customers feel. Pick a survey; its CSAT, NPS or CES with the 95% interval, by segment, campaign or
// product, over time, and before/after a change. Analysts read; marketers and admins also create surveys.
import { Button, Code, Group, Paper, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { usePermissions } from "../../auth/session";
import { getBeforeAfterOptions, getSurveyReportOptions, listSurveysOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import type { SurveyReport } from "../../client/campaigns/types.gen";
import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { BeforeAfterView, GroupTable, KIND_LABELS, ScoreSummary, TrendChart } from "../../features/satisfaction/scores";
import { SurveyForm } from "../../features/satisfaction/SurveyForm";

export const Route = createFileRoute("/_console/satisfaction/")({
  component: SatisfactionPage,
});

type By = SurveyReport["by"];
type Interval = SurveyReport["interval"];

function SatisfactionPage() {
  const { canWrite } = usePermissions();
  const [chosen, setChosen] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const surveys = useQuery(listSurveysOptions());
  const surveyId = chosen ?? surveys.data?.[0]?.id ?? null;
  const survey = surveys.data?.find((s) => s.id === surveyId);
  return (
    <>
      <PageHeader
        title="Satisfaction"
        description="CSAT, NPS and CES from one-question surveys, with 95% intervals, trends and before/after a change."
        meta={<Freshness fetchedAt={surveys.dataUpdatedAt || undefined} />}
      />
      <Stack gap="md">
        {canWrite ? (
          creating ? (
            <SurveyForm onCreated={(s) => { setChosen(s.id); setCreating(false); }} />
          ) : (
            <Group>
              <Button variant="light" onClick={() => setCreating(true)}>
                New survey
              </Button>
            </Group>
          )
        ) : null}
        <QueryState
          query={surveys}
          loadingLabel="Loading surveys"
          isEmpty={(d) => d.length === 0}
          empty={<Empty title="No surveys yet" description="A marketer creates one; answers come through links in campaign mail." />}
        >
          {(list) => (
            <Stack gap="md">
              <Select
                label="Survey"
                data={list.map((s) => ({ value: s.id, label: `${s.name} · ${KIND_LABELS[s.kind]}` }))}
                value={surveyId}
                onChange={setChosen}
                allowDeselect={false}
                searchable
                maw={480}
              />
              {survey ? (
                <>
                  <Text size="sm" c="dimmed">
                    “{survey.question}” — in a campaign template: <Code>{`{{ survey_links("${survey.id}") }}`}</Code>
                  </Text>
                  <SurveyReportView surveyId={survey.id} />
                </>
              ) : null}
            </Stack>
          )}
        </QueryState>
      </Stack>
    </>
  );
}

function SurveyReportView({ surveyId }: { surveyId: string }) {
  const [by, setBy] = useState<By>("segment");
  const [interval, setInterval] = useState<Interval>("week");
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000, enabled: by === "segment" });
  const report = useQuery({
    ...getSurveyReportOptions({ path: { survey_id: surveyId }, query: { by, interval } }),
    placeholderData: keepPreviousData,
  });
  const names = Object.fromEntries((segments.data ?? []).map((s) => [s.id, s.name]));
  return (
    <Stack gap="md">
      <Group align="flex-end">
        <Select
          label="Group by"
          data={[
            { value: "segment", label: "Segment" },
            { value: "campaign", label: "Campaign" },
            { value: "product", label: "Product" },
            { value: "none", label: "Nothing" },
          ]}
          value={by}
          onChange={(v) => setBy((v) ?? "none")}
          allowDeselect={false}
          w={180}
        />
        <Select
          label="Trend per"
          data={[
            { value: "day", label: "Day" },
            { value: "week", label: "Week" },
            { value: "month", label: "Month" },
          ]}
          value={interval}
          onChange={(v) => setInterval((v) ?? "week")}
          allowDeselect={false}
          w={140}
        />
        <Freshness asOf={report.data?.last_answer_at} label="last answer" fetchedAt={report.dataUpdatedAt || undefined} />
      </Group>
      <QueryState
        query={report}
        loadingLabel="Loading the report"
        isEmpty={(r) => r.total.responses === 0}
        empty={<Empty title="No answers yet" description="Answers appear here as people follow the links in their mail." />}
      >
        {(r) => (
          <Stack gap="md">
            <ScoreSummary score={r.total} />
            <Paper withBorder p="md" component="section" aria-label="Trend">
              <TrendChart report={r} />
            </Paper>
            {r.by !== "none" ? <GroupTable report={r} names={names} /> : null}
          </Stack>
        )}
      </QueryState>
      <BeforeAfterForm surveyId={surveyId} />
    </Stack>
  );
}

function BeforeAfterForm({ surveyId }: { surveyId: string }) {
  const [split, setSplit] = useState("");
  const result = useQuery({
    ...getBeforeAfterOptions({ path: { survey_id: surveyId }, query: { split: `${split}T00:00:00Z` } }),
    enabled: split !== "",
  });
  return (
    <Stack gap="sm" component="section" aria-label="Improvement after a change">
      <Title order={3} size="h4">
        Before and after a change
      </Title>
      <TextInput
        type="date"
        label="Date of the change"
        description="Answers before this day against answers from it on"
        value={split}
        onChange={(e) => setSplit(e.currentTarget.value)}
        maw={240}
      />
      {split ? (
        <QueryState query={result} loadingLabel="Comparing">
          {(r) => <BeforeAfterView result={r} />}
        </QueryState>
      ) : null}
    </Stack>
  );
}

// A new one-question survey (marketers and admins): checked before sending, the API's field errors shown in place.
import { Button, Checkbox, Group, Paper, Select, Stack, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { fieldErrors } from "../../api/errors";
import { createSurveyMutation, listSurveysQueryKey } from "../../client/campaigns/@tanstack/react-query.gen";
import type { SurveyRead } from "../../client/campaigns/types.gen";
import { KIND_LABELS, type Kind } from "./scores";

export function SurveyForm({ onCreated }: { onCreated: (survey: SurveyRead) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("nps");
  const [question, setQuestion] = useState("");
  const [askComment, setAskComment] = useState(true);
  const [product, setProduct] = useState("");
  const [checked, setChecked] = useState(false);
  const create = useMutation({
    ...createSurveyMutation(),
    onSuccess: (survey) => {
      void queryClient.invalidateQueries({ queryKey: listSurveysQueryKey() });
      onCreated(survey);
    },
  });
  const server = fieldErrors(create.error);
  const local = { name: name.trim() ? undefined : "Give the survey a name", question: question.trim() ? undefined : "Ask a question" };
  const submit = () => {
    setChecked(true);
    if (local.name || local.question) return;
    create.mutate({ body: { name: name.trim(), kind, question: question.trim(), ask_comment: askComment, product_id: product.trim() || null } });
  };
  return (
    <Paper withBorder p="md" component="form" aria-label="New survey" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <Stack gap="sm">
        <Group align="flex-start" grow>
          <TextInput label="Name" value={name} maxLength={200} onChange={(e) => setName(e.currentTarget.value)} error={(checked && local.name) || server.name} />
          <Select
            label="Kind"
            data={(Object.keys(KIND_LABELS) as Kind[]).map((k) => ({ value: k, label: KIND_LABELS[k] }))}
            value={kind}
            onChange={(v) => setKind((v) ?? "nps")}
            allowDeselect={false}
            error={server.kind}
          />
        </Group>
        <TextInput label="Question" value={question} maxLength={300} onChange={(e) => setQuestion(e.currentTarget.value)} error={(checked && local.question) || server.question} />
        <Group align="flex-end">
          <TextInput label="Product (optional)" value={product} maxLength={200} onChange={(e) => setProduct(e.currentTarget.value)} error={server.product_id} />
          <Checkbox label="Ask for a comment" checked={askComment} onChange={(e) => setAskComment(e.currentTarget.checked)} />
          <Button type="submit" loading={create.isPending}>
            Create survey
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

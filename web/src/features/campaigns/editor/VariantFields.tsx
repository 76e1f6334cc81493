// One variant: name, weight, subject and HTML body templates (Jinja2), the errors at their line, and the preview.
import { ActionIcon, Code, Group, NumberInput, Paper, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { IconTrash } from "@tabler/icons-react";
import { useState } from "react";

import { MailPreview, type TemplateErrors } from "./MailPreview";
import { errorLine, type VariantValues } from "./values";

/** A template's error with the line it names, quoted from the template. */
export function TemplateError({ template, reason }: { template: string; reason: string }) {
  const line = errorLine(reason);
  const text = line ? template.split("\n")[line - 1] : undefined;
  return (
    <Stack gap={2}>
      <span>{reason}</span>
      {line && text !== undefined ? (
        <span>
          Line {line}: <Code>{text}</Code>
        </span>
      ) : null}
    </Stack>
  );
}

export function VariantFields({
  index,
  variant,
  errors,
  onChange,
  onRemove,
  segmentId,
  campaignId,
  email,
}: {
  index: number;
  variant: VariantValues;
  errors: Record<string, string>;
  onChange: (next: VariantValues) => void;
  onRemove?: () => void;
  segmentId: string | undefined;
  campaignId?: string;
  email: boolean;
}) {
  const [templateErrors, setTemplateErrors] = useState<TemplateErrors>({});
  const label = `Variant ${variant.name || index + 1}`;
  return (
    <Paper withBorder p="md" component="fieldset" aria-label={label} style={{ minWidth: 0 }}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h5">
            {label}
          </Title>
          {onRemove ? (
            <ActionIcon variant="subtle" color="red" onClick={onRemove} aria-label={`Remove variant ${variant.name || index + 1}`}>
              <IconTrash size={16} aria-hidden />
            </ActionIcon>
          ) : null}
        </Group>
        <Group grow align="flex-start">
          <TextInput label="Name" value={variant.name} onChange={(e) => onChange({ ...variant, name: e.currentTarget.value })} error={errors[`variants.${index}.name`]} required />
          <NumberInput label="Weight" min={0.01} max={1000} value={variant.weight} onChange={(v) => onChange({ ...variant, weight: Number(v) || 1 })} />
        </Group>
        {email ? (
          <>
            <TextInput
              label="Subject"
              value={variant.subject}
              onChange={(e) => onChange({ ...variant, subject: e.currentTarget.value })}
              error={templateErrors.subject ? <TemplateError template={variant.subject} reason={templateErrors.subject} /> : undefined}
            />
            <Textarea
              label="HTML body"
              description="Jinja2: {{ first_name }}, any trait, links are tracked when sent."
              autosize
              minRows={6}
              maxRows={20}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              value={variant.body}
              onChange={(e) => onChange({ ...variant, body: e.currentTarget.value })}
              error={templateErrors.body ? <TemplateError template={variant.body} reason={templateErrors.body} /> : undefined}
            />
            <MailPreview
              subject={variant.subject}
              body={variant.body}
              segmentId={segmentId}
              campaignId={campaignId}
              variantId={variant.id}
              onErrors={setTemplateErrors}
            />
          </>
        ) : (
          <Text size="sm" c="dimmed">
            This channel sends no mail: the variant only splits the audience.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

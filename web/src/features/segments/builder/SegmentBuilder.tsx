// The segment builder: nested AND / OR groups that can be negated, added, removed and reordered (buttons, or drag
// with the mouse or the keyboard through dnd-kit), over leaves for traits, computed traits, behaviour, scores and
// segment membership. Every node is a labelled region ("Condition 2.1", "Group 3") so it can be found by role.
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors } from "@dnd-kit/core";
import type { DragEndEvent } from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { ActionIcon, Badge, Button, Group, Menu, Paper, SegmentedControl, Stack, Switch, Text, Tooltip } from "@mantine/core";
import {
  IconArrowDown,
  IconArrowUp,
  IconBrackets,
  IconGripVertical,
  IconPlus,
  IconTrash,
} from "@tabler/icons-react";
import { createContext, useContext, useMemo } from "react";
import type { HTMLAttributes, ReactNode } from "react";

import { LeafFields } from "./LeafFields";
import {
  addChild,
  moveBy,
  moveWithin,
  newGroup,
  newLeaf,
  nodeNumbers,
  removeNode,
  setGroupOp,
  toggleNegation,
  wrapInGroup,
  type EditorNode,
  type GroupNode,
  type LeafKind,
  type LeafNode,
  type NodeErrors,
} from "./tree";

interface BuilderContextValue {
  root: GroupNode;
  edit: (fn: (root: GroupNode) => GroupNode) => void;
  errors: NodeErrors;
  numbers: Map<string, string>;
  readOnly: boolean;
  excludeSegmentId?: string;
}

const BuilderContext = createContext<BuilderContextValue | null>(null);

export function useBuilder(): BuilderContextValue {
  const value = useContext(BuilderContext);
  if (!value) throw new Error("useBuilder outside SegmentBuilder");
  return value;
}

export const LEAF_KIND_LABELS: Record<LeafKind, string> = {
  trait: "Trait",
  computed: "Computed trait",
  event: "Behaviour",
  score: "Score",
  segment: "Segment membership",
};

export interface SegmentBuilderProps {
  value: GroupNode;
  onChange: (next: GroupNode) => void;
  /** Problems per node (from checkTree, or a 422 placed with locateErrors). */
  errors?: NodeErrors;
  readOnly?: boolean;
  /** The segment being edited: it cannot contain itself. */
  excludeSegmentId?: string;
}

export function SegmentBuilder({ value, onChange, errors = {}, readOnly = false, excludeSegmentId }: SegmentBuilderProps) {
  const numbers = useMemo(() => nodeNumbers(value), [value]);
  const context = useMemo<BuilderContextValue>(
    () => ({ root: value, edit: (fn) => onChange(fn(value)), errors, numbers, readOnly, excludeSegmentId }),
    [value, onChange, errors, numbers, readOnly, excludeSegmentId],
  );
  return (
    <BuilderContext.Provider value={context}>
      <GroupEditor node={value} isRoot />
    </BuilderContext.Provider>
  );
}

// ------------------------------------------------------------------------------------------- drag and drop

type HandleProps = HTMLAttributes<HTMLButtonElement> | null;
const HandleContext = createContext<HandleProps>(null);

function SortableItem({ id, children }: { id: string; children: ReactNode }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  const style = { transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.6 : 1 };
  return (
    <div ref={setNodeRef} style={style}>
      <HandleContext.Provider value={{ ...attributes, ...listeners }}>{children}</HandleContext.Provider>
    </div>
  );
}

function DragHandle({ label }: { label: string }) {
  const handle = useContext(HandleContext);
  if (!handle) return null;
  return (
    <Tooltip label="Drag, or press Space then the arrow keys, to reorder">
      <ActionIcon variant="subtle" color="gray" aria-label={`Reorder ${label}`} style={{ cursor: "grab" }} {...handle}>
        <IconGripVertical size={16} aria-hidden />
      </ActionIcon>
    </Tooltip>
  );
}

function SortableChildren({ group }: { group: GroupNode }) {
  const { edit, readOnly } = useBuilder();
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const ids = group.children.map((c) => c.id);
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const from = ids.indexOf(String(active.id));
    const to = ids.indexOf(String(over.id));
    if (from >= 0 && to >= 0) edit((root) => moveWithin(root, group.id, from, to));
  };
  const children = group.children.map((child) =>
    child.type === "group" ? <GroupEditor key={child.id} node={child} /> : <LeafEditor key={child.id} node={child} />,
  );
  if (readOnly) return <Stack gap="xs">{children}</Stack>;
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        <Stack gap="xs">
          {group.children.map((child, i) => (
            <SortableItem key={child.id} id={child.id}>
              {children[i]}
            </SortableItem>
          ))}
        </Stack>
      </SortableContext>
    </DndContext>
  );
}

// ------------------------------------------------------------------------------------------- node controls

function nodeLabel(node: EditorNode, numbers: Map<string, string>): string {
  const number = numbers.get(node.id);
  if (!number) return "all conditions";
  return `${node.type === "group" ? "group" : "condition"} ${number}`;
}

function NodeControls({ node, label }: { node: EditorNode; label: string }) {
  const { root, edit } = useBuilder();
  const siblings = findSiblings(root, node.id);
  const index = siblings.findIndex((c) => c.id === node.id);
  return (
    <Group gap={2} wrap="nowrap">
      <ActionIcon
        variant="subtle"
        color="gray"
        aria-label={`Move ${label} up`}
        disabled={index <= 0}
        onClick={() => edit((r) => moveBy(r, node.id, -1))}
      >
        <IconArrowUp size={16} aria-hidden />
      </ActionIcon>
      <ActionIcon
        variant="subtle"
        color="gray"
        aria-label={`Move ${label} down`}
        disabled={index < 0 || index >= siblings.length - 1}
        onClick={() => edit((r) => moveBy(r, node.id, 1))}
      >
        <IconArrowDown size={16} aria-hidden />
      </ActionIcon>
      {node.type === "leaf" ? (
        <Tooltip label="Put in a group of its own">
          <ActionIcon variant="subtle" color="gray" aria-label={`Group ${label}`} onClick={() => edit((r) => wrapInGroup(r, node.id))}>
            <IconBrackets size={16} aria-hidden />
          </ActionIcon>
        </Tooltip>
      ) : null}
      <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label}`} onClick={() => edit((r) => removeNode(r, node.id))}>
        <IconTrash size={16} aria-hidden />
      </ActionIcon>
    </Group>
  );
}

function findSiblings(group: GroupNode, id: string): EditorNode[] {
  if (group.children.some((c) => c.id === id)) return group.children;
  for (const child of group.children) {
    if (child.type === "group") {
      const found = findSiblings(child, id);
      if (found.length) return found;
    }
  }
  return [];
}

function NegateSwitch({ node, label }: { node: EditorNode; label: string }) {
  const { edit, readOnly } = useBuilder();
  return (
    <Switch
      label="Not"
      aria-label={`Negate ${label}`}
      checked={node.negated}
      disabled={readOnly}
      onChange={() => edit((r) => toggleNegation(r, node.id))}
      size="sm"
    />
  );
}

function NodeError({ errors }: { errors: Record<string, string> | undefined }) {
  // Fields a leaf shows next to its inputs are not repeated here; the rest (and the node's own) are.
  const shown = Object.entries(errors ?? {}).filter(([field]) => !LEAF_FIELDS.has(field));
  if (!shown.length) return null;
  return (
    <Stack gap={2} role="alert">
      {shown.map(([field, reason]) => (
        <Text key={field} size="sm" c="red.7">
          {field ? `${field}: ` : ""}
          {reason}
        </Text>
      ))}
    </Stack>
  );
}

/** Fields a leaf editor shows beside their input. */
const LEAF_FIELDS = new Set(["trait", "computed", "score", "op", "value", "event", "at_least", "at_most", "exactly", "within_days", "segment"]);

// ------------------------------------------------------------------------------------------- groups and leaves

function AddMenu({ group, label }: { group: GroupNode; label: string }) {
  const { edit } = useBuilder();
  const add = (node: EditorNode) => edit((r) => addChild(r, group.id, node));
  return (
    <Group gap="xs">
      <Menu position="bottom-start">
        <Menu.Target>
          <Button size="xs" variant="light" leftSection={<IconPlus size={14} aria-hidden />} aria-label={`Add condition to ${label}`}>
            Add condition
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {(Object.keys(LEAF_KIND_LABELS) as LeafKind[]).map((kind) => (
            <Menu.Item key={kind} onClick={() => add(newLeaf(kind))}>
              {LEAF_KIND_LABELS[kind]}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Button
        size="xs"
        variant="subtle"
        leftSection={<IconBrackets size={14} aria-hidden />}
        aria-label={`Add group to ${label}`}
        onClick={() => add(newGroup(group.op === "and" ? "or" : "and", [newLeaf("trait")]))}
      >
        Add group
      </Button>
    </Group>
  );
}

function GroupEditor({ node, isRoot = false }: { node: GroupNode; isRoot?: boolean }) {
  const { edit, errors, numbers, readOnly } = useBuilder();
  const label = nodeLabel(node, numbers);
  const title = isRoot ? "All conditions" : `Group ${numbers.get(node.id) ?? ""}`;
  return (
    <Paper
      withBorder
      p="sm"
      role="group"
      aria-label={title}
      bg={isRoot ? undefined : "var(--mantine-color-default-hover)"}
      style={node.negated ? { borderColor: "var(--mantine-color-orange-6)", borderWidth: 2 } : undefined}
    >
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="wrap">
            {isRoot || readOnly ? null : <DragHandle label={label} />}
            {node.negated ? (
              <Badge color="orange" variant="light">
                Not
              </Badge>
            ) : null}
            <Text size="sm" fw={500}>
              {isRoot ? "People who match" : "Match"}
            </Text>
            <SegmentedControl
              size="xs"
              value={node.op}
              disabled={readOnly}
              aria-label={`How to combine ${label}`}
              onChange={(op) => edit((r) => setGroupOp(r, node.id, op === "or" ? "or" : "and"))}
              data={[
                { value: "and", label: "all (AND)" },
                { value: "or", label: "any (OR)" },
              ]}
            />
            <Text size="sm" fw={500}>
              of these
            </Text>
          </Group>
          {readOnly ? null : (
            <Group gap="xs" wrap="nowrap">
              <NegateSwitch node={node} label={label} />
              {isRoot ? null : <NodeControls node={node} label={label} />}
            </Group>
          )}
        </Group>
        <NodeError errors={errors[node.id]} />
        <SortableChildren group={node} />
        {readOnly ? null : <AddMenu group={node} label={label} />}
      </Stack>
    </Paper>
  );
}

function LeafEditor({ node }: { node: LeafNode }) {
  const { errors, numbers, readOnly } = useBuilder();
  const label = nodeLabel(node, numbers);
  const number = numbers.get(node.id) ?? "";
  return (
    <Paper
      withBorder
      p="xs"
      role="group"
      aria-label={`Condition ${number}`}
      style={node.negated ? { borderColor: "var(--mantine-color-orange-6)", borderWidth: 2 } : undefined}
    >
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="nowrap">
            {readOnly ? null : <DragHandle label={label} />}
            <Badge style={{ flexShrink: 0 }} variant="light" color={node.negated ? "orange" : "blue"}>
              {node.negated ? "Not · " : ""}
              {LEAF_KIND_LABELS[node.leaf.kind]}
            </Badge>
          </Group>
          {readOnly ? null : (
            <Group gap="xs" wrap="nowrap">
              <NegateSwitch node={node} label={label} />
              <NodeControls node={node} label={label} />
            </Group>
          )}
        </Group>
        <LeafFields node={node} errors={errors[node.id] ?? {}} />
        <NodeError errors={errors[node.id]} />
      </Stack>
    </Paper>
  );
}

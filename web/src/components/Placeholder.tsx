import { Empty } from "./QueryState";
import { PageHeader } from "./PageHeader";

/** A screen of part 2 of the console: named in the navigation, not built yet. */
export function Placeholder({ title, description }: { title: string; description: string }) {
  return (
    <>
      <PageHeader title={title} description={description} />
      <Empty title="Coming in the next part of the console" description="The API already offers this; its screens are next." />
    </>
  );
}

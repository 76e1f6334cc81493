import { Empty } from "./QueryState";
import { ButtonLink } from "./links";

export function NotFound() {
  return (
    <Empty
      title="Page not found"
      description="The address does not match any page of the console."
      action={<ButtonLink to="/">Go to the overview</ButtonLink>}
    />
  );
}

import { createApp } from "./app";

export { ClientObject } from "./clients/object";
export { EditObject } from "./edits/object";
export { Hub } from "./hub/hub";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

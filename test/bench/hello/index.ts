import { Hono } from "hono";

// The baseline for the bundle-size figure: a bare Hono app, built the same way as the relay.
const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));

export default app;

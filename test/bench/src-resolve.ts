import { registerHooks } from "node:module";

/**
 * Lets this Node process import the relay's own modules (src/), whose relative imports carry no
 * extension (wrangler's bundler resolves them; Node does not): a relative specifier without one,
 * imported from under src/, is tried as `<specifier>.ts`, then `<specifier>/index.ts`.
 * Imported for its effect, before any import of src/.
 */
const SRC = new URL("../../src/", import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromSrc = context.parentURL?.startsWith(SRC) ?? false;
    if (!fromSrc || !/^\.\.?\//.test(specifier) || /\.[cm]?[jt]s$/.test(specifier)) {
      return nextResolve(specifier, context);
    }
    try {
      return nextResolve(`${specifier}.ts`, context);
    } catch {
      return nextResolve(`${specifier}/index.ts`, context);
    }
  },
});

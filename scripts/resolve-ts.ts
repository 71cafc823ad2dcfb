/**
 * Lets Node run src/ from a script: src/ imports its modules without extensions, so a relative
 * import that does not resolve is tried again as a `.ts` file. Import this module first, then
 * import src/ dynamically (static imports are resolved before any code runs).
 */
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith(".")) throw error;
      return nextResolve(`${specifier}.ts`, context);
    }
  },
});

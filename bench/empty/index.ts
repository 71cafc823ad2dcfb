/**
 * Benchmark ceiling: a Worker that answers 200 at once, with no origin. What `wrangler dev`
 * itself costs on this machine, beside which every other row is read.
 */
export default {
  fetch() {
    return new Response("ok");
  },
} satisfies ExportedHandler;

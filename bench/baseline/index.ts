/**
 * Benchmark baseline: a bare pass-through Worker to the same origin, in the same runtime. What
 * any Worker in front of the origin costs, with no authorization at all.
 */
interface Env {
  ORIGIN: string;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(`${env.ORIGIN}${url.pathname}${url.search}`, request);
  },
} satisfies ExportedHandler<Env>;

/**
 * uPlot's style sheet as text, for the chart in the element's shadow root: here, the file served
 * beside this module. The `@portcullis/element` package builds this module with the text inside
 * (scripts/build-packages.mjs), since a bundler serves no such file.
 */
export async function chartStyle() {
  const response = await fetch(new URL("./uplot.min.css", import.meta.url), { credentials: "omit" });
  return response.text();
}

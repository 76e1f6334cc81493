// README "Website tag": the snippet a site pastes into its pages, with its tracking host and write key filled in.
function attribute(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}

export function tagSnippet(trackingHost: string, writeKey: string): string {
  const host = attribute(trackingHost.replace(/\/+$/, ""));
  const key = attribute(writeKey);
  return `<script>
  !function(w){var t=w.tessera=w.tessera||[];if(t.__tessera||t.snippet)return;t.snippet=1;
  ["load","page","track","identify","alias","reset","flush"].forEach(function(m){
  t[m]=function(){t.push([m].concat([].slice.call(arguments)));return t}})}(window);
</script>
<script async src="${host}/tag.js" data-write-key="${key}" data-api-host="${host}"></script>`;
}

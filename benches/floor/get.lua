-- A random pgbench account a request, as pgbench -S picks one (scale 10).
request = function()
  return wrk.format("GET", "/scim/v2/Users/" .. math.random(1, 1000000))
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read))
end

-- Counts answers by status and prints wrk's figures as one JSON line for bench/run.py.
-- Used alone for GET runs (wrk -s bench/wrk_report.lua URL); bench/sign.lua loads it for POST runs.
--
-- The line starts with "BENCH_JSON ": requests, seconds, statuses {code: n}, non_2xx_3xx
-- (wrk's own count), socket errors, and latency percentiles in milliseconds.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

statuses = {}
sent = 0

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

local function merged_statuses()
   local total = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + n
      end
   end
   return total
end

local function total_sent()
   local n = 0
   for _, thread in ipairs(threads) do
      n = n + (thread:get("sent") or 0)
   end
   return n
end

function done(summary, latency, requests)
   local parts = {}
   for status, n in pairs(merged_statuses()) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "seconds": %.3f, "sent": %d, "statuses": {%s}, ' ..
      '"non_2xx_3xx": %d, "socket_errors": %d, "timeouts": %d, ' ..
      '"latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}}\n',
      summary.requests, summary.duration / 1e6, total_sent(), table.concat(parts, ", "),
      errors.status, errors.connect + errors.read + errors.write, errors.timeout,
      latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
      latency:percentile(99) / 1e3, latency.max / 1e3))
end

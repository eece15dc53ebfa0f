-- wrk script: replays pre-signed requests from a TSV file (see presign.py), each once.
-- Threads take disjoint slices of the file; non-200 replies are counted and reported.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local total_threads = tonumber(args[2])
  requests = {}
  errors = 0
  local index = 0
  for line in io.lines(path) do
    if index % total_threads == id - 1 then
      local method, p, ts, nonce, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["X-API-Key"] = wrk.headers["X-API-Key"], ["X-Timestamp"] = ts, ["X-Nonce"] = nonce, ["X-Signature"] = sig }
      if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
      table.insert(requests, wrk.format(method, p, headers, body))
    end
    index = index + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then
    -- Out of pre-signed requests: stop sending new ones (a replay would be refused).
    wrk.thread:stop()
    return requests[#requests]
  end
  return requests[position]
end

function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local errs = 0
  for _, thread in ipairs(threads) do errs = errs + thread:get("errors") end
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errs, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

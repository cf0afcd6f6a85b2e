-- wrk script: cycle through a corpus of pre-built requests over keep-alive connections.
--
-- Environment (read when the script loads, before wrk decides whether delay() exists):
--   BENCH_CORPUS      the corpus file written by benchmarks/corpus.py (target TAB header TAB header ...)
--   BENCH_DELAY_MS    optional: mean pause in ms before each request on a connection. Set, every
--                     connection sends one request per (pause + latency), the pause drawn uniformly from
--                     1 .. 2*mean-1 ms so connections do not march in lock step: a fixed offered rate of
--                     about connections / mean pause, like browsers that each send now and then.
-- At the end, one line "BENCH_RESULT {json}" with the counts and latency percentiles (microseconds).

local corpus_path = os.getenv("BENCH_CORPUS")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")

local requests = {}
local count = 0
local index = 0
local threads = {}

local function load(path)
   local file = assert(io.open(path, "r"), "cannot open corpus " .. tostring(path))
   for line in file:lines() do
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
         fields[#fields + 1] = field
      end
      local headers = {}
      for i = 2, #fields do
         local name, value = string.match(fields[i], "^([^:]+): (.*)$")
         headers[name] = value
      end
      count = count + 1
      requests[count] = wrk.format("GET", fields[1], headers)
   end
   file:close()
end

function setup(thread)
   thread:set("offset", #threads)
   threads[#threads + 1] = thread
end

function init(args)
   load(corpus_path)
   -- Threads start at different places in the corpus, so they send different events.
   index = math.floor(count * offset / 8) % count
   math.randomseed(1000 + offset)
end

function request()
   index = index + 1
   if index > count then
      index = 1
   end
   return requests[index]
end

if delay_ms then
   local low, high = 1, math.max(1, 2 * delay_ms - 1)
   function delay()
      return math.random(low, high)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, "connect_errors": %d, ' ..
      '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
      summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end

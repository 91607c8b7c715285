-- wrk script: POSTs the file named by the PAYLOAD env variable as OTLP/HTTP protobuf.
local f = assert(io.open(os.getenv("PAYLOAD"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-protobuf"

-- Non-2xx answers are counted by wrk as "Non-2xx or 3xx responses"; print them clearly too.
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non_200=%d\n", summary.errors.status))
end
